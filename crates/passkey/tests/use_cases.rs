//! The passkey use cases, against the in-memory store, the scripted relying party, a fixed clock and seeded
//! randomness: no authenticator, no runtime.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use authd_identity::ports::UserRepository as _;
use authd_identity::{DisplayName, Email, NewWorkspace, PasswordHash, User};
use authd_kernel::{Client, UserId};
use authd_passkey::ports::{PasskeyRepository as _, RelyingParty};
use authd_passkey::{
    AuthenticatedCredential, CEREMONY_TTL, Ceremony, CredentialId, MAX_NAME_CHARS, PasskeyError,
    PasskeyId, PasskeyLogin, PasskeyService, PasskeyUser, RegisteredCredential, StoredPasskey,
};
use authd_testkit::{FakeRelyingParty, FakeResponse, FixedClock, MemoryPasskeys, SeededRandom};
use futures_util::FutureExt as _;
use time::Duration;
use time::macros::datetime;

struct World<P> {
    service: PasskeyService<MemoryPasskeys, P, FixedClock, SeededRandom>,
    repo: MemoryPasskeys,
    clock: FixedClock,
    random: SeededRandom,
}

fn world() -> World<FakeRelyingParty> {
    world_with(|_| FakeRelyingParty::new())
}

/// A world whose relying party is made over its repository.
fn world_with<P: RelyingParty>(rp: impl FnOnce(&MemoryPasskeys) -> P) -> World<P> {
    let repo = MemoryPasskeys::new();
    let clock = FixedClock::at(datetime!(2026-06-01 12:00 UTC));
    let random = SeededRandom::new(11);
    World {
        service: PasskeyService::new(repo.clone(), rp(&repo), clock.clone(), random.clone()),
        repo,
        clock,
        random,
    }
}

/// The fakes never suspend, so every future completes on its first poll.
fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    future
        .now_or_never()
        .expect("in-memory fakes never suspend")
}

impl<P: RelyingParty> World<P> {
    /// An account, with a password or without one (signed up through a provider).
    fn account(&self, email: &str, with_password: bool) -> User {
        let now = authd_kernel::Clock::now(&self.clock);
        let user = User {
            id: UserId::generate(&self.clock, &self.random),
            email: Email::parse(email).unwrap(),
            name: DisplayName::parse("Ada Lovelace").unwrap(),
            password_hash: with_password
                .then(|| PasswordHash::from_phc("$scrypt$ln=4,r=8,p=1$c2FsdA$aGFzaA".into())),
            created_at: now,
            updated_at: now,
        };
        let workspace = NewWorkspace::personal_for(&user, &self.clock, &self.random);
        run(self.repo.create_with_workspace(&user, &workspace, None)).unwrap();
        user
    }

    /// Begins a registration for `user` and answers it with `credential_id`.
    fn register(
        &self,
        user: &User,
        credential_id: &str,
        counter: u32,
        name: Option<&str>,
    ) -> Result<StoredPasskey, PasskeyError> {
        let options = run(self.service.begin_registration(user)).unwrap();
        let answer = response(&options, credential_id, counter, true);
        run(self
            .service
            .finish_registration(user.id, &answer, name, &Client::default()))
    }

    /// Begins a sign-in and answers it with `credential_id` at `counter`.
    fn login(&self, credential_id: &str, counter: u32) -> Result<PasskeyLogin, PasskeyError> {
        let options = run(self.service.begin_login()).unwrap();
        run(self
            .service
            .finish_login(&response(&options, credential_id, counter, true)))
    }
}

/// The browser's answer to the ceremony `options` began.
fn response(options: &str, credential_id: &str, counter: u32, user_verified: bool) -> String {
    FakeResponse {
        challenge: FakeRelyingParty::challenge_of(options).unwrap(),
        credential_id: credential_id.into(),
        counter,
        user_verified,
    }
    .to_json()
}

#[test]
fn a_registered_passkey_is_stored_with_its_name_and_listed() {
    let w = world();
    let ada = w.account("ada@example.com", true);
    let passkey = w.register(&ada, "cred-a", 0, Some(" Laptop ")).unwrap();
    assert_eq!(passkey.name, "Laptop");
    assert_eq!(passkey.user_id, ada.id);
    assert_eq!(passkey.credential_id, CredentialId(b"cred-a".to_vec()));
    assert_eq!(passkey.created_at, datetime!(2026-06-01 12:00 UTC));
    assert_eq!(passkey.last_used_at, None);
    let listed = run(w.service.list(ada.id)).unwrap();
    assert_eq!(
        listed.iter().map(|p| p.id).collect::<Vec<_>>(),
        [passkey.id]
    );
}

#[test]
fn registration_options_name_the_user_and_exclude_their_passkeys() {
    let w = world();
    let ada = w.account("ada@example.com", true);
    let fresh = run(w.service.begin_registration(&ada)).unwrap();
    assert!(FakeRelyingParty::excluded_of(&fresh).unwrap().is_empty());
    assert!(fresh.contains("ada@example.com"), "{fresh}");
    w.register(&ada, "cred-a", 0, None).unwrap();
    w.register(&ada, "cred-b", 0, None).unwrap();
    let again = run(w.service.begin_registration(&ada)).unwrap();
    assert_eq!(
        FakeRelyingParty::excluded_of(&again).unwrap(),
        ["cred-a", "cred-b"]
    );
}

#[test]
fn a_credential_cannot_be_registered_twice() {
    let w = world();
    let ada = w.account("ada@example.com", true);
    let bob = w.account("bob@example.com", true);
    w.register(&ada, "cred-a", 0, None).unwrap();
    let twice = w.register(&bob, "cred-a", 0, None);
    assert!(
        matches!(twice, Err(PasskeyError::AlreadyRegistered)),
        "{twice:?}"
    );
    assert!(run(w.service.list(bob.id)).unwrap().is_empty());
}

#[test]
fn a_passkey_signs_in_without_an_email_and_says_whether_the_user_was_verified() {
    let w = world();
    let ada = w.account("ada@example.com", true);
    w.register(&ada, "cred-a", 1, None).unwrap();
    let options = run(w.service.begin_login()).unwrap();
    assert!(
        options.contains("\"allowCredentials\":[]"),
        "usernameless options list no credential: {options}"
    );
    w.clock.advance(Duration::minutes(1));
    let login = run(w
        .service
        .finish_login(&response(&options, "cred-a", 2, false)))
    .unwrap();
    assert_eq!(
        login,
        PasskeyLogin {
            user_id: ada.id,
            user_verified: false
        }
    );
    assert!(w.login("cred-a", 3).unwrap().user_verified);
    let used = run(w.service.list(ada.id)).unwrap().remove(0);
    assert_eq!(
        used.last_used_at,
        Some(datetime!(2026-06-01 12:01 UTC)),
        "the use was not recorded"
    );
}

#[test]
fn an_answer_cannot_be_replayed() {
    let w = world();
    let ada = w.account("ada@example.com", true);
    let options = run(w.service.begin_registration(&ada)).unwrap();
    let registration = response(&options, "cred-a", 1, true);
    run(w
        .service
        .finish_registration(ada.id, &registration, None, &Client::default()))
    .unwrap();
    let again = run(w
        .service
        .finish_registration(ada.id, &registration, None, &Client::default()));
    assert!(
        matches!(again, Err(PasskeyError::UnknownCeremony)),
        "{again:?}"
    );

    let options = run(w.service.begin_login()).unwrap();
    let assertion = response(&options, "cred-a", 2, true);
    run(w.service.finish_login(&assertion)).unwrap();
    let replayed = run(w.service.finish_login(&assertion));
    assert!(
        matches!(replayed, Err(PasskeyError::UnknownCeremony)),
        "{replayed:?}"
    );
}

#[test]
fn an_answer_after_the_ceremony_expired_is_refused() {
    let w = world();
    let ada = w.account("ada@example.com", true);
    w.register(&ada, "cred-a", 1, None).unwrap();
    let options = run(w.service.begin_login()).unwrap();
    w.clock.advance(CEREMONY_TTL - Duration::seconds(1));
    run(w
        .service
        .finish_login(&response(&options, "cred-a", 2, true)))
    .unwrap();

    let late = run(w.service.begin_login()).unwrap();
    w.clock.advance(CEREMONY_TTL);
    let refused = run(w.service.finish_login(&response(&late, "cred-a", 3, true)));
    assert!(
        matches!(refused, Err(PasskeyError::UnknownCeremony)),
        "{refused:?}"
    );
}

#[test]
fn a_registration_begun_for_one_user_cannot_be_finished_by_another() {
    let w = world();
    let ada = w.account("ada@example.com", true);
    let bob = w.account("bob@example.com", true);
    let options = run(w.service.begin_registration(&ada)).unwrap();
    let stolen = run(w.service.finish_registration(
        bob.id,
        &response(&options, "cred-b", 0, true),
        None,
        &Client::default(),
    ));
    assert!(
        matches!(stolen, Err(PasskeyError::UnknownCeremony)),
        "{stolen:?}"
    );
    assert!(run(w.service.list(bob.id)).unwrap().is_empty());
}

#[test]
fn a_ceremony_only_finishes_what_it_began() {
    let w = world();
    let ada = w.account("ada@example.com", true);
    w.register(&ada, "cred-a", 1, None).unwrap();
    let login = run(w.service.begin_login()).unwrap();
    let as_registration = run(w.service.finish_registration(
        ada.id,
        &response(&login, "cred-new", 0, true),
        None,
        &Client::default(),
    ));
    assert!(
        matches!(as_registration, Err(PasskeyError::UnknownCeremony)),
        "{as_registration:?}"
    );
    let registration = run(w.service.begin_registration(&ada)).unwrap();
    let as_login = run(w
        .service
        .finish_login(&response(&registration, "cred-a", 2, true)));
    assert!(
        matches!(as_login, Err(PasskeyError::UnknownCeremony)),
        "{as_login:?}"
    );
}

#[test]
fn unknown_challenges_credentials_and_malformed_answers_are_refused() {
    let w = world();
    let ada = w.account("ada@example.com", true);
    w.register(&ada, "cred-a", 1, None).unwrap();
    let options = run(w.service.begin_login()).unwrap();
    let unknown_challenge = FakeResponse {
        challenge: "challenge-99".into(),
        credential_id: "cred-a".into(),
        counter: 2,
        user_verified: true,
    };
    let result = run(w.service.finish_login(&unknown_challenge.to_json()));
    assert!(
        matches!(result, Err(PasskeyError::UnknownCeremony)),
        "{result:?}"
    );
    let result = run(w
        .service
        .finish_login(&response(&options, "cred-unknown", 2, true)));
    assert!(
        matches!(result, Err(PasskeyError::Rejected(_))),
        "{result:?}"
    );
    let result = run(w.service.finish_login("{not json"));
    assert!(
        matches!(result, Err(PasskeyError::Malformed(_))),
        "{result:?}"
    );
}

#[test]
fn a_signature_counter_that_does_not_move_forward_refuses_the_login() {
    let w = world();
    let ada = w.account("ada@example.com", true);
    w.register(&ada, "cred-a", 5, None).unwrap();
    for stale in [5, 4] {
        let result = w.login("cred-a", stale);
        assert!(
            matches!(result, Err(PasskeyError::CounterRegressed)),
            "counter {stale}: {result:?}"
        );
    }
    assert_eq!(
        run(w.service.list(ada.id)).unwrap()[0].last_used_at,
        None,
        "a refused login was recorded"
    );
    w.login("cred-a", 6).unwrap();
    assert!(matches!(
        w.login("cred-a", 6),
        Err(PasskeyError::CounterRegressed)
    ));
}

/// The fake relying party, except that another login with the same credential and counter is recorded
/// while this one is being verified: two assertions racing with one passkey state.
#[derive(Debug)]
struct RacedByAnotherLogin {
    rp: FakeRelyingParty,
    repo: MemoryPasskeys,
}

impl RelyingParty for RacedByAnotherLogin {
    fn start_registration(
        &self,
        user: &PasskeyUser,
        existing: &[StoredPasskey],
    ) -> Result<Ceremony, PasskeyError> {
        self.rp.start_registration(user, existing)
    }

    fn finish_registration(
        &self,
        response_json: &str,
        state: &str,
    ) -> Result<RegisteredCredential, PasskeyError> {
        self.rp.finish_registration(response_json, state)
    }

    fn start_authentication(&self, allowed: &[StoredPasskey]) -> Result<Ceremony, PasskeyError> {
        self.rp.start_authentication(allowed)
    }

    fn response_challenge(&self, response_json: &str) -> Result<String, PasskeyError> {
        self.rp.response_challenge(response_json)
    }

    fn response_credential_id(&self, response_json: &str) -> Result<CredentialId, PasskeyError> {
        self.rp.response_credential_id(response_json)
    }

    fn finish_authentication(
        &self,
        response_json: &str,
        state: &str,
        credential: &StoredPasskey,
    ) -> Result<AuthenticatedCredential, PasskeyError> {
        let verified = self
            .rp
            .finish_authentication(response_json, state, credential)?;
        let other = self.repo.record_use(
            credential.id,
            &credential.data,
            &verified.data,
            datetime!(2026-06-01 12:00 UTC),
        );
        assert!(run(other).unwrap(), "the racing login was not recorded");
        Ok(verified)
    }
}

#[test]
fn of_two_logins_racing_with_one_passkey_state_only_the_first_recorded_counts() {
    let w = world_with(|repo| RacedByAnotherLogin {
        rp: FakeRelyingParty::new(),
        repo: repo.clone(),
    });
    let ada = w.account("ada@example.com", true);
    w.register(&ada, "cred-a", 1, None).unwrap();
    let result = w.login("cred-a", 2);
    assert!(
        matches!(result, Err(PasskeyError::CounterRegressed)),
        "{result:?}"
    );
}

#[test]
fn a_passkey_is_deleted_by_its_owner_unless_it_is_the_last_way_in() {
    let w = world();
    let ada = w.account("ada@example.com", true);
    let octo = w.account("octo@example.com", false);
    let adas = w.register(&ada, "cred-a", 0, None).unwrap();
    let first = w.register(&octo, "cred-o1", 0, None).unwrap();
    let second = w.register(&octo, "cred-o2", 0, None).unwrap();

    let foreign = run(w.service.delete(octo.id, adas.id, &Client::default()));
    assert!(
        matches!(foreign, Err(PasskeyError::NotFound)),
        "{foreign:?}"
    );
    let unknown = run(w.service.delete(
        ada.id,
        PasskeyId::generate(&w.clock, &w.random),
        &Client::default(),
    ));
    assert!(
        matches!(unknown, Err(PasskeyError::NotFound)),
        "{unknown:?}"
    );

    run(w.service.delete(ada.id, adas.id, &Client::default())).unwrap();
    assert!(
        run(w.service.list(ada.id)).unwrap().is_empty(),
        "the password still lets Ada in, so her only passkey can go"
    );

    run(w.service.delete(octo.id, first.id, &Client::default())).unwrap();
    let last = run(w.service.delete(octo.id, second.id, &Client::default()));
    assert!(
        matches!(last, Err(PasskeyError::LastLoginMethod)),
        "{last:?}"
    );
    assert_eq!(run(w.service.list(octo.id)).unwrap().len(), 1);
}

#[test]
fn passkey_names_are_trimmed_cleaned_bounded_and_defaulted() {
    let w = world();
    let ada = w.account("ada@example.com", true);
    let long = "é".repeat(500);
    let cases = [
        (None, "Passkey".to_owned()),
        (Some("   "), "Passkey".to_owned()),
        (Some(" Work\tlaptop\n"), "Worklaptop".to_owned()),
        (Some(long.as_str()), "é".repeat(MAX_NAME_CHARS)),
    ];
    for (i, (given, expected)) in cases.into_iter().enumerate() {
        let stored = w.register(&ada, &format!("cred-{i}"), 0, given).unwrap();
        assert_eq!(stored.name, expected, "{given:?}");
    }
}
