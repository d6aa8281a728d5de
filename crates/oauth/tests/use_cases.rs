//! The OAuth rules against in-memory storage and a scripted provider (the real adapters are tested against
//! local providers in `crates/providers`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

use authd_identity::ports::UserRepository as _;
use authd_identity::{DisplayName, Email, NewWorkspace, PasswordHash, User};
use authd_kernel::{Client, OsRandom, Secret, UserId};
use authd_oauth::{
    OAuthError, OAuthPolicy, OAuthService, ProviderIdentity, ProviderKind, ProviderReply,
};
use authd_session::SessionId;
use authd_testkit::{FixedClock, MemoryOAuth, ScriptedProvider, SeededRandom};
use futures_util::FutureExt as _;
use time::Duration;
use time::macros::datetime;

struct World {
    service: OAuthService<MemoryOAuth, ScriptedProvider, FixedClock, SeededRandom>,
    provider: ScriptedProvider,
    repo: MemoryOAuth,
    clock: FixedClock,
}

fn world() -> World {
    let repo = MemoryOAuth::new();
    let provider = ScriptedProvider::default();
    let clock = FixedClock::at(datetime!(2026-04-01 10:00 UTC));
    let policy = OAuthPolicy {
        public_url: "https://auth.example.com".into(),
        state_ttl: Duration::minutes(10),
    };
    let service = OAuthService::new(
        repo.clone(),
        vec![provider.clone()],
        policy,
        clock.clone(),
        SeededRandom::new(9),
    );
    World {
        service,
        provider,
        repo,
        clock,
    }
}

fn run<T>(future: impl std::future::Future<Output = T>) -> T {
    future
        .now_or_never()
        .expect("in-memory fakes never suspend")
}

fn identity(subject: &str, email: &str, verified: bool) -> ProviderIdentity {
    ProviderIdentity {
        provider: ProviderKind::GitHub,
        subject: subject.into(),
        email: Some(email.into()),
        email_verified: verified,
        name: Some("Octo Cat".into()),
    }
}

fn state_of(url: &str) -> String {
    url.split("state=").nth(1).unwrap().to_owned()
}

/// A session to begin link flows from: whether it is live is the application's concern, not this crate's.
fn any_session() -> SessionId {
    SessionId::generate(&FixedClock::at(datetime!(2026-04-01 10:00 UTC)), &OsRandom)
}

/// Begins (as `link_user` if given) and completes a flow for `who`.
fn flow(
    w: &World,
    who: ProviderIdentity,
    link_user: Option<UserId>,
) -> Result<authd_oauth::Completed, OAuthError> {
    w.provider.answer_with(who);
    let begun = match link_user {
        Some(user) => {
            run(w
                .service
                .begin_link(ProviderKind::GitHub, Some("/welcome"), user, any_session()))
        }
        None => run(w
            .service
            .begin_sign_in(ProviderKind::GitHub, Some("/welcome"))),
    }
    .unwrap();
    run(w.service.complete(
        ProviderKind::GitHub,
        ProviderReply::Code(Secret::new("good")),
        &state_of(&begun.authorize_url),
        Some(begun.binding.expose()),
        &Client::default(),
    ))
}

fn password_user(w: &World, email: &str) -> User {
    let now = datetime!(2026-04-01 09:00 UTC);
    let user = User {
        id: UserId::generate(&w.clock, &OsRandom),
        email: Email::parse(email).unwrap(),
        name: DisplayName::parse("Ada").unwrap(),
        password_hash: Some(PasswordHash::from_phc("$scrypt$x".into())),
        created_at: now,
        updated_at: now,
    };
    run(w.repo.create_with_workspace(
        &user,
        &NewWorkspace::personal_for(&user, &w.clock, &OsRandom),
        None,
    ))
    .unwrap();
    user
}

#[test]
fn a_new_identity_creates_an_account_without_password_and_signs_in_again_later() {
    let w = world();
    let first = flow(&w, identity("42", "octo@example.com", true), None).unwrap();
    assert!(first.created);
    assert!(!first.user.has_password());
    assert_eq!(first.user.email.as_str(), "octo@example.com");
    assert_eq!(first.redirect_to.as_str(), "/welcome");
    assert_eq!(
        run(w.repo.find_profile(first.user.id))
            .unwrap()
            .unwrap()
            .memberships
            .len(),
        1,
        "no personal workspace"
    );

    let again = flow(&w, identity("42", "changed@example.com", true), None).unwrap();
    assert!(!again.created);
    assert_eq!(again.user.id, first.user.id);
}

#[test]
fn a_verified_email_links_to_the_existing_account() {
    let w = world();
    let ada = password_user(&w, "ada@example.com");
    let done = flow(&w, identity("7", "Ada@Example.com", true), None).unwrap();
    assert_eq!(done.user.id, ada.id);
    assert_eq!(run(w.service.links(ada.id)).unwrap().len(), 1);
}

#[test]
fn an_unverified_email_of_an_existing_account_is_not_linked() {
    let w = world();
    let ada = password_user(&w, "ada@example.com");
    let refused = flow(&w, identity("7", "ada@example.com", false), None);
    assert!(matches!(refused, Err(OAuthError::NoUsableEmail(_))));
    assert!(run(w.service.links(ada.id)).unwrap().is_empty());
}

#[test]
fn a_link_flow_attaches_and_refuses_someone_elses_identity() {
    let w = world();
    let ada = password_user(&w, "ada@example.com");
    let linked = flow(
        &w,
        identity("7", "ada@elsewhere.example", false),
        Some(ada.id),
    )
    .unwrap();
    assert_eq!(linked.user.id, ada.id);
    let bob = password_user(&w, "bob@example.com");
    let stolen = flow(
        &w,
        identity("7", "ada@elsewhere.example", false),
        Some(bob.id),
    );
    assert!(matches!(stolen, Err(OAuthError::ProviderAlreadyLinked)));
}

#[test]
fn the_state_is_single_use_unexpired_and_bound_to_the_browser() {
    let w = world();
    w.provider.answer_with(identity("1", "a@example.com", true));
    let complete = |state: &str, binding: Option<&str>| {
        run(w.service.complete(
            ProviderKind::GitHub,
            ProviderReply::Code(Secret::new("good")),
            state,
            binding,
            &Client::default(),
        ))
    };
    let begun = run(w.service.begin_sign_in(ProviderKind::GitHub, None)).unwrap();
    let state = state_of(&begun.authorize_url);
    assert!(matches!(
        complete(&state, Some("another browser")),
        Err(OAuthError::InvalidState)
    ));
    assert!(
        matches!(
            complete(&state, Some(begun.binding.expose())),
            Err(OAuthError::InvalidState)
        ),
        "a failed check must still spend the state"
    );

    let begun = run(w.service.begin_sign_in(ProviderKind::GitHub, None)).unwrap();
    let state = state_of(&begun.authorize_url);
    assert!(complete(&state, Some(begun.binding.expose())).is_ok());
    assert!(
        matches!(
            complete(&state, Some(begun.binding.expose())),
            Err(OAuthError::InvalidState)
        ),
        "reused"
    );

    let begun = run(w.service.begin_sign_in(ProviderKind::GitHub, None)).unwrap();
    w.clock.advance(Duration::minutes(10));
    assert!(matches!(
        complete(
            &state_of(&begun.authorize_url),
            Some(begun.binding.expose())
        ),
        Err(OAuthError::InvalidState)
    ));
    assert!(matches!(
        complete("made-up", None),
        Err(OAuthError::InvalidState)
    ));
}

#[test]
fn absolute_redirects_and_unconfigured_providers_are_refused() {
    let w = world();
    assert!(matches!(
        run(w
            .service
            .begin_sign_in(ProviderKind::GitHub, Some("https://evil.example"))),
        Err(OAuthError::InvalidRedirect)
    ));
    assert!(matches!(
        run(w
            .service
            .begin_sign_in(ProviderKind::GitHub, Some("//evil.example"))),
        Err(OAuthError::InvalidRedirect)
    ));
    assert!(matches!(
        run(w.service.begin_sign_in(ProviderKind::Google, None)),
        Err(OAuthError::UnknownProvider)
    ));
}

#[test]
fn unlink_keeps_the_last_way_in() {
    let w = world();
    let created = flow(&w, identity("42", "octo@example.com", true), None)
        .unwrap()
        .user;
    assert!(matches!(
        run(w
            .service
            .unlink(created.id, ProviderKind::GitHub, &Client::default())),
        Err(OAuthError::LastLoginMethod)
    ));
    assert!(matches!(
        run(w
            .service
            .unlink(created.id, ProviderKind::Google, &Client::default())),
        Err(OAuthError::NotLinked)
    ));

    let ada = password_user(&w, "ada@example.com");
    flow(&w, identity("7", "ada@example.com", true), None).unwrap();
    run(w
        .service
        .unlink(ada.id, ProviderKind::GitHub, &Client::default()))
    .unwrap();
    assert!(run(w.service.links(ada.id)).unwrap().is_empty());
}

#[test]
fn a_provider_refusal_is_reported() {
    let w = world();
    w.provider.answer_with(identity("1", "a@example.com", true));
    let begun = run(w.service.begin_sign_in(ProviderKind::GitHub, None)).unwrap();
    let result = run(w.service.complete(
        ProviderKind::GitHub,
        ProviderReply::Code(Secret::new("bad")),
        &state_of(&begun.authorize_url),
        Some(begun.binding.expose()),
        &Client::default(),
    ));
    assert!(matches!(result, Err(OAuthError::Refused(_))));
}
