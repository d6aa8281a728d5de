//! [`Accounts`]: the domain services and the throttle, wired once, and the single-domain use cases that
//! need nothing from this layer (reachable through accessors).

use std::fmt;

use authd_identity::ports::{
    LoginMethodRepository, PasswordHasher, PasswordResetRepository, UserRepository,
};
use authd_identity::{IdentityService, PasswordResetService, Profile};
use authd_kernel::{Client, Clock, DetailValue, EventKind, Random, SecurityEvent, UserId};
use authd_mfa::ports::MfaRepository;
use authd_mfa::{MfaService, SetupOutput};
use authd_oauth::OAuthService;
use authd_oauth::ports::{IdentityProvider, OAuthRepository};
use authd_passkey::PasskeyService;
use authd_passkey::ports::{PasskeyRepository, RelyingParty};
use authd_session::ports::SessionRepository;
use authd_session::{Authenticated, SessionError, SessionService};
use time::Duration;

use crate::AccountError;
use crate::ports::{RateLimiter, SecurityLog};
use crate::throttle::Throttle;

/// Which adapter fills each port. One type names them all, so the application takes one type parameter:
/// the store and the real providers in the service, the in-memory fakes in tests.
pub trait Ports: Clone + fmt::Debug + Send + Sync + 'static {
    /// Users, workspaces and password resets.
    type Users: UserRepository + PasswordResetRepository + Clone + fmt::Debug;
    /// Sessions and refresh tokens.
    type Sessions: SessionRepository + Clone + fmt::Debug;
    /// TOTP secrets and recovery codes.
    type Mfa: MfaRepository + Clone + fmt::Debug;
    /// Provider flows and linked identities.
    type OAuth: OAuthRepository + UserRepository + LoginMethodRepository + Clone + fmt::Debug;
    /// Passkeys and their ceremonies.
    type Passkeys: PasskeyRepository + LoginMethodRepository + Clone + fmt::Debug;
    /// The throttle's counters.
    type Counters: RateLimiter + Clone + fmt::Debug;
    /// The security log.
    type Log: SecurityLog + Clone + fmt::Debug;
    /// Password hashing.
    type Hasher: PasswordHasher + Clone + fmt::Debug;
    /// The clock.
    type Clock: Clock + Clone;
    /// Randomness.
    type Random: Random + Clone;
    /// GitHub, Google.
    type Provider: IdentityProvider + Clone + fmt::Debug;
    /// WebAuthn ceremonies.
    type RelyingParty: RelyingParty + Clone + fmt::Debug;
}

/// The identity use cases over `P`.
pub type Identity<P> = IdentityService<
    <P as Ports>::Users,
    <P as Ports>::Hasher,
    <P as Ports>::Clock,
    <P as Ports>::Random,
>;
/// The password-reset use cases over `P`.
pub type Resets<P> = PasswordResetService<
    <P as Ports>::Users,
    <P as Ports>::Hasher,
    <P as Ports>::Clock,
    <P as Ports>::Random,
>;
/// The session use cases over `P`.
pub type Sessions<P> =
    SessionService<<P as Ports>::Sessions, <P as Ports>::Clock, <P as Ports>::Random>;
/// The MFA use cases over `P`.
pub type Mfa<P> = MfaService<<P as Ports>::Mfa, <P as Ports>::Clock, <P as Ports>::Random>;
/// The OAuth use cases over `P`.
pub type OAuth<P> = OAuthService<
    <P as Ports>::OAuth,
    <P as Ports>::Provider,
    <P as Ports>::Clock,
    <P as Ports>::Random,
>;
/// The passkey use cases over `P`.
pub type Passkeys<P> = PasskeyService<
    <P as Ports>::Passkeys,
    <P as Ports>::RelyingParty,
    <P as Ports>::Clock,
    <P as Ports>::Random,
>;

/// The domain services, each wired to its ports: what [`Accounts::new`] puts in order.
#[derive(Debug, Clone)]
pub struct Domains<P: Ports> {
    /// Users, passwords, workspaces.
    pub identity: Identity<P>,
    /// Password reset by email.
    pub resets: Resets<P>,
    /// Tokens and sessions.
    pub sessions: Sessions<P>,
    /// TOTP and recovery codes.
    pub mfa: Mfa<P>,
    /// Sign-in with providers.
    pub oauth: OAuth<P>,
    /// WebAuthn passkeys.
    pub passkeys: Passkeys<P>,
}

/// The rules of this layer that are configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountPolicy {
    /// How long a proven factor keeps a session recent (step-up).
    pub reauth_max_age: Duration,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        Self {
            reauth_max_age: Duration::minutes(10),
        }
    }
}

/// What [`Accounts::new`] is made of.
#[derive(Debug)]
pub struct Parts<P: Ports> {
    /// The domain services.
    pub domains: Domains<P>,
    /// The throttling policy over its counters.
    pub throttle: Throttle<P::Counters, P::Clock>,
    /// This layer's configured rules.
    pub policy: AccountPolicy,
    /// The security log.
    pub log: P::Log,
    /// The clock.
    pub clock: P::Clock,
    /// Randomness (event ids).
    pub random: P::Random,
}

/// The application: every use case a request makes, in one place.
#[derive(Debug, Clone)]
pub struct Accounts<P: Ports> {
    pub(crate) domains: Domains<P>,
    pub(crate) throttle: Throttle<P::Counters, P::Clock>,
    pub(crate) policy: AccountPolicy,
    pub(crate) log: P::Log,
    pub(crate) clock: P::Clock,
    pub(crate) random: P::Random,
}

impl<P: Ports> Accounts<P> {
    /// The application over its domains and throttle.
    pub fn new(parts: Parts<P>) -> Self {
        let Parts {
            domains,
            throttle,
            policy,
            log,
            clock,
            random,
        } = parts;
        Self {
            domains,
            throttle,
            policy,
            log,
            clock,
            random,
        }
    }

    /// Records an event that goes with no other write (a refusal); a failure to record is logged, not
    /// surfaced: the refusal stands either way.
    pub(crate) async fn record(
        &self,
        kind: EventKind,
        user: UserId,
        client: &Client,
        detail: &[(&'static str, DetailValue)],
    ) {
        let mut event = SecurityEvent::new(kind, user, client, &self.clock, &self.random);
        for (key, value) in detail {
            event = event.with(key, value.clone());
        }
        if let Err(err) = self.log.record(&event).await {
            tracing::warn!(error = %err, kind = kind.as_str(), "could not record a security event");
        }
    }

    /// Who an access token belongs to, if its session is live (pending sessions included).
    ///
    /// # Errors
    /// [`SessionError::InvalidAccessToken`] (wrapped), or a storage failure.
    pub async fn authenticate(&self, access_token: &str) -> Result<Authenticated, AccountError> {
        Ok(self.domains.sessions.authenticate(access_token).await?)
    }

    /// The signed-in user with their workspaces.
    ///
    /// # Errors
    /// [`SessionError::InvalidAccessToken`] when the account is gone, or a storage failure.
    pub async fn profile(&self, user: UserId) -> Result<Profile, AccountError> {
        self.domains
            .identity
            .profile(user)
            .await?
            .ok_or(AccountError::Session(SessionError::InvalidAccessToken))
    }

    /// Starts TOTP enrolment for the signed-in user (the authenticator app shows their email).
    ///
    /// # Errors
    /// [`authd_mfa::MfaError::AlreadyEnabled`], [`SessionError::InvalidAccessToken`] when the account is
    /// gone, or a storage failure.
    pub async fn begin_mfa_enrolment(&self, user: UserId) -> Result<SetupOutput, AccountError> {
        let user = self.signed_in_user(user).await?;
        Ok(self.domains.mfa.setup(user.id, user.email.as_str()).await?)
    }

    /// Options to register a passkey for the signed-in user.
    ///
    /// # Errors
    /// [`SessionError::InvalidAccessToken`] when the account is gone, a relying-party or storage failure.
    pub async fn begin_passkey_registration(&self, user: UserId) -> Result<String, AccountError> {
        let user = self.signed_in_user(user).await?;
        Ok(self.domains.passkeys.begin_registration(&user).await?)
    }

    /// Users, passwords and workspaces, for use cases of that domain alone.
    pub fn identity(&self) -> &Identity<P> {
        &self.domains.identity
    }

    /// Password resets, for use cases of that domain alone.
    pub fn resets(&self) -> &Resets<P> {
        &self.domains.resets
    }

    /// Sessions and token keys, for use cases of that domain alone.
    pub fn sessions(&self) -> &Sessions<P> {
        &self.domains.sessions
    }

    /// TOTP and recovery codes, for use cases of that domain alone.
    pub fn mfa(&self) -> &Mfa<P> {
        &self.domains.mfa
    }

    /// Providers, for use cases of that domain alone.
    pub fn oauth(&self) -> &OAuth<P> {
        &self.domains.oauth
    }

    /// Passkeys, for use cases of that domain alone.
    pub fn passkeys(&self) -> &Passkeys<P> {
        &self.domains.passkeys
    }
}
