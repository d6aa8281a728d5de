//! One world of fakes behind [`Accounts`], and the steps the tests share.

use authd_account::{
    AccountPolicy, Accounts, Domains, Limit, Parts, Ports, ProviderCallback, SignIn, Throttle,
    ThrottlePolicy,
};
use authd_identity::{IdentityService, PasswordResetService, Registration, ResetPolicy, User};
use authd_kernel::{Clock as _, OsRandom, Secret};
use authd_mfa::{MfaPolicy, MfaService, SecretCipher, TotpSecret, totp};
use authd_oauth::{
    Begun, OAuthPolicy, OAuthService, ProviderIdentity, ProviderKind, ProviderReply,
};
use authd_passkey::PasskeyService;
use authd_session::{KeyId, KeyRing, SessionPolicy, SessionService, SigningKey};
pub use authd_testkit::contract::sessions::laptop;
use authd_testkit::{
    FakeRelyingParty, FakeResponse, FixedClock, InlineHasher, MemoryStore, ScriptedProvider,
    SeededRandom,
};
use futures_util::FutureExt as _;
use time::Duration;
use time::macros::datetime;

/// Every port filled by its fake.
#[derive(Debug, Clone, Copy)]
pub struct Fakes;

impl Ports for Fakes {
    type Users = MemoryStore;
    type Sessions = MemoryStore;
    type Mfa = MemoryStore;
    type OAuth = MemoryStore;
    type Passkeys = MemoryStore;
    type Counters = MemoryStore;
    type Log = MemoryStore;
    type Hasher = InlineHasher;
    type Clock = FixedClock;
    type Random = SeededRandom;
    type Provider = ScriptedProvider;
    type RelyingParty = FakeRelyingParty;
}

pub const PASSWORD: &str = "correct horse battery staple";

/// The limits the tests run under: small enough to reach, distinct enough to tell apart.
pub const POLICY: ThrottlePolicy = ThrottlePolicy {
    enabled: true,
    login_per_ip: Limit {
        max: 6,
        window: Duration::minutes(5),
    },
    registrations_per_ip: Limit {
        max: 2,
        window: Duration::HOUR,
    },
    anonymous_ceremonies_per_ip: Limit {
        max: 4,
        window: Duration::minutes(5),
    },
    login_failures_per_account: Limit {
        max: 3,
        window: Duration::minutes(15),
    },
    second_factor_failures_per_user: Limit {
        max: 7,
        window: Duration::minutes(15),
    },
    reset_requests_per_ip: Limit {
        max: 2,
        window: Duration::HOUR,
    },
    reset_emails_per_address: Limit {
        max: 1,
        window: Duration::HOUR,
    },
};

pub struct World {
    pub accounts: Accounts<Fakes>,
    pub store: MemoryStore,
    pub clock: FixedClock,
    pub provider: ScriptedProvider,
}

pub fn world() -> World {
    world_with(POLICY)
}

pub fn world_with(policy: ThrottlePolicy) -> World {
    let store = MemoryStore::new();
    // Ten seconds into a 30-second TOTP step, so "now" is unambiguous.
    let clock = FixedClock::at(datetime!(2026-03-01 09:00:10 UTC));
    let random = SeededRandom::new(11);
    let hasher = InlineHasher::cheap();
    let provider = ScriptedProvider::default();
    let keys = KeyRing::single(SigningKey::generate(KeyId(1), &OsRandom).unwrap());
    let reset_policy = ResetPolicy {
        ttl: Duration::HOUR,
        reset_url: "https://app.example/reset".into(),
        product: "authd".into(),
    };
    let oauth_policy = OAuthPolicy {
        public_url: "https://auth.example".into(),
        state_ttl: Duration::minutes(10),
    };
    let domains = Domains::<Fakes> {
        identity: IdentityService::new(
            store.clone(),
            hasher.clone(),
            clock.clone(),
            random.clone(),
        ),
        resets: PasswordResetService::new(
            store.clone(),
            hasher,
            clock.clone(),
            random.clone(),
            reset_policy,
        ),
        sessions: SessionService::new(
            store.clone(),
            keys,
            SessionPolicy::default(),
            clock.clone(),
            random.clone(),
        ),
        mfa: MfaService::new(
            store.clone(),
            SecretCipher::new([7; 32]),
            MfaPolicy::default(),
            clock.clone(),
            random.clone(),
        ),
        oauth: OAuthService::new(
            store.clone(),
            vec![provider.clone()],
            oauth_policy,
            clock.clone(),
            random.clone(),
        ),
        passkeys: PasskeyService::new(
            store.clone(),
            FakeRelyingParty::new(),
            clock.clone(),
            random,
        ),
    };
    let throttle = Throttle::new(store.clone(), policy, clock.clone());
    World {
        accounts: Accounts::new(Parts {
            domains,
            throttle,
            policy: AccountPolicy::default(),
            log: store.clone(),
            clock: clock.clone(),
            random: SeededRandom::new(12),
        }),
        store,
        clock,
        provider,
    }
}

/// The fakes never suspend, so every future completes on its first poll.
pub fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    future
        .now_or_never()
        .expect("in-memory fakes never suspend")
}

impl World {
    /// Signs up `email` with [`PASSWORD`].
    pub fn sign_up(&self, email: &str) -> User {
        let registration = Registration {
            email: email.into(),
            name: "Ada Lovelace".into(),
            password: Secret::new(PASSWORD),
        };
        run(self.accounts.sign_up(registration, &laptop()))
            .unwrap()
            .user
    }

    /// Turns TOTP on for `user` and returns its secret (the current step is spent by the confirmation).
    pub fn enrol_totp(&self, user: &User) -> TotpSecret {
        let setup = run(self.accounts.begin_mfa_enrolment(user.id)).unwrap();
        let secret = TotpSecret::from_base32(setup.secret_base32.expose()).unwrap();
        let code = self.totp(&secret, 0);
        run(self.accounts.mfa().confirm(user.id, &code, &laptop())).unwrap();
        secret
    }

    /// The code the user's app shows `offset` steps from now.
    pub fn totp(&self, secret: &TotpSecret, offset: i64) -> String {
        let step = totp::step_at(self.clock.now())
            .unwrap()
            .checked_add_signed(offset)
            .unwrap();
        totp::code_at_step(secret, step)
            .unwrap()
            .expose()
            .to_owned()
    }

    /// Signs in with the password and expects the second factor to be required.
    pub fn pending_sign_in(&self, email: &str) -> authd_account::PendingSession {
        match run(self
            .accounts
            .sign_in_with_password(email, &Secret::new(PASSWORD), &laptop()))
        .unwrap()
        {
            SignIn::SecondFactorRequired(pending) => pending,
            SignIn::Complete(_) => panic!("expected a pending sign-in"),
        }
    }

    /// Registers a passkey with `credential_id` for `user` (the authenticator verifies the user or not).
    pub fn register_passkey(&self, user: &User, credential_id: &str, user_verified: bool) {
        let options = run(self.accounts.begin_passkey_registration(user.id)).unwrap();
        let answer = passkey_answer(&options, credential_id, 1, user_verified);
        run(self
            .accounts
            .passkeys()
            .finish_registration(user.id, &answer, None, &laptop()))
        .unwrap();
    }

    /// Begins a passkey sign-in and answers it with `credential_id` at `counter`.
    pub fn passkey_assertion(
        &self,
        credential_id: &str,
        counter: u32,
        user_verified: bool,
    ) -> String {
        let options = run(self.accounts.passkeys().begin_login()).unwrap();
        passkey_answer(&options, credential_id, counter, user_verified)
    }

    /// Runs a GitHub flow for `identity` to its callback, begun as a sign-in.
    pub fn provider_sign_in(
        &self,
        identity: ProviderIdentity,
    ) -> Result<authd_account::ProviderSignIn, authd_account::AccountError> {
        let begun = run(self
            .accounts
            .oauth()
            .begin_sign_in(ProviderKind::GitHub, Some("/welcome")))
        .unwrap();
        match self.provider_callback(identity, &begun)? {
            ProviderCallback::SignedIn(done) => Ok(*done),
            ProviderCallback::Linked { .. } => panic!("a sign-in flow linked"),
        }
    }

    /// Answers the flow `begun` with `identity`, from the browser that began it.
    pub fn provider_callback(
        &self,
        identity: ProviderIdentity,
        begun: &Begun,
    ) -> Result<ProviderCallback, authd_account::AccountError> {
        self.provider.answer_with(identity);
        let state = ScriptedProvider::state_of(&begun.authorize_url).unwrap();
        run(self.accounts.complete_provider_flow(
            ProviderKind::GitHub,
            ProviderReply::Code(Secret::new("good")),
            state,
            Some(begun.binding.expose()),
            &laptop(),
        ))
    }
}

fn passkey_answer(options: &str, credential_id: &str, counter: u32, user_verified: bool) -> String {
    FakeResponse {
        challenge: FakeRelyingParty::challenge_of(options).unwrap(),
        credential_id: credential_id.into(),
        counter,
        user_verified,
    }
    .to_json()
}

/// A verified GitHub identity for `email`.
pub fn github(subject: &str, email: &str) -> ProviderIdentity {
    ProviderIdentity {
        provider: ProviderKind::GitHub,
        subject: subject.into(),
        email: Some(email.into()),
        email_verified: true,
        name: Some("Ada".into()),
    }
}
