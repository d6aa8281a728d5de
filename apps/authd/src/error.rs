//! The one place where errors become HTTP: every domain error maps to a status and a stable `error` code
//! here, and nowhere else.

use std::error::Error as StdError;
use std::fmt::Write as _;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use authd_account::AccountError;
use authd_identity::{IdentityError, PasswordProblem};
use authd_kernel::StoreError;
use authd_mfa::MfaError;
use authd_oauth::OAuthError;
use authd_passkey::PasskeyError;
use authd_session::SessionError;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code (see docs/api.md for the list).
    #[schema(example = "invalid_credentials")]
    pub error: &'static str,
    /// A sentence for humans.
    #[schema(example = "invalid email or password")]
    pub message: String,
}

/// Everything an endpoint can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed JSON, a missing field, a wrong type, a bad value.
    #[error("{0}")]
    InvalidRequest(String),
    /// The new password breaks the policy.
    #[error("{0}")]
    WeakPassword(PasswordProblem),
    /// Registration with an email that has an account.
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Login failed, for whatever reason.
    #[error("invalid email or password")]
    InvalidCredentials,
    /// No valid access token.
    #[error("authentication required")]
    Unauthorized,
    /// The session still waits for its second factor.
    #[error("multi-factor authentication required")]
    MfaRequired,
    /// A refresh (or other one-time) token is unknown, expired, revoked or reused.
    #[error("invalid or expired token")]
    InvalidToken,
    /// A password-reset token that is unknown, used, expired or superseded (400, unlike the 401 of a bad
    /// session token: the caller is not signed in and nothing about a session ended).
    #[error("invalid or expired reset token")]
    InvalidResetToken,
    /// A wrong TOTP or recovery code on an endpoint of a full session (400: the session is fine).
    #[error("invalid code")]
    InvalidCode,
    /// A wrong TOTP or recovery code on the pending-session endpoints (401: the sign-in did not complete).
    #[error("invalid code")]
    InvalidSecondFactor,
    /// MFA setup while MFA is on.
    #[error("multi-factor authentication is already enabled")]
    MfaAlreadyEnabled,
    /// An MFA operation while MFA is off.
    #[error("multi-factor authentication is not enabled")]
    MfaNotEnabled,
    /// Confirm without a pending enrolment.
    #[error("no multi-factor enrolment is pending; call /auth/mfa/setup first")]
    MfaSetupRequired,
    /// A credential change on a session whose last proven factor is too old.
    #[error("this change needs a recent authentication: re-authenticate at /auth/reauthenticate")]
    ReauthRequired,
    /// A pending-session endpoint called with a session that is not pending.
    #[error("this session does not need a second factor")]
    MfaNotPending,
    /// A provider name that is unknown or not configured.
    #[error("unknown or disabled provider")]
    UnknownProvider,
    /// `redirect_to` is not a relative path.
    #[error("redirect_to must be a relative path such as /settings")]
    InvalidRedirect,
    /// The OAuth callback's state is missing, unknown, expired, used or not from this browser.
    #[error("invalid or expired OAuth state; start the sign-in again")]
    InvalidState,
    /// The provider identity belongs to another account.
    #[error("this provider account is already linked to another user")]
    ProviderAlreadyLinked,
    /// No account can be matched or created from what the provider said.
    #[error("{0}")]
    NoUsableEmail(&'static str),
    /// Unlink of a provider that is not linked.
    #[error("this provider is not linked to the account")]
    NotLinked,
    /// Removing the account's only way to sign in.
    #[error("this is the account's last way to sign in")]
    LastLoginMethod,
    /// The provider refused the sign-in.
    #[error("the provider refused the sign-in")]
    ProviderRefused,
    /// The provider could not be reached or answered nonsense.
    #[error("the provider is unavailable; try again later")]
    ProviderUnavailable,
    /// A passkey registration answer that is malformed, does not verify, or answers no live ceremony.
    #[error("{0}")]
    InvalidPasskey(String),
    /// A passkey sign-in that does not verify (unknown credential, bad signature, replay, expired
    /// challenge, counter gone backwards).
    #[error("the passkey was not accepted")]
    PasskeyRefused,
    /// Registering a credential that is registered already.
    #[error("this passkey is already registered")]
    PasskeyAlreadyRegistered,
    /// A cookie-authenticated request from an origin that is not allowed.
    #[error("request origin not allowed")]
    ForbiddenOrigin,
    /// No such resource.
    #[error("not found")]
    NotFound,
    /// The route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// The methods it does take, for the `Allow` header.
        allow: &'static str,
    },
    /// The request body did not arrive in time.
    #[error("the request body took too long to arrive")]
    RequestTimeout,
    /// Too many attempts; retry after this many seconds.
    #[error("too many attempts; try again later")]
    RateLimited {
        /// Seconds until the window resets.
        retry_after: u64,
    },
    /// The password-hashing pool is saturated.
    #[error("the service is busy; try again shortly")]
    Busy,
    /// The readiness check failed: the database does not answer.
    #[error("the database does not answer")]
    NotReady,
    /// Anything unexpected; logged, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn StdError + Send + Sync>),
}

impl ApiError {
    /// The one table of the contract: each answer's HTTP status and stable `error` code (docs/api.md lists
    /// them). Nothing else decides either.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            Self::WeakPassword(_) => (StatusCode::BAD_REQUEST, "weak_password"),
            Self::EmailTaken => (StatusCode::BAD_REQUEST, "email_taken"),
            Self::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::MfaRequired => (StatusCode::UNAUTHORIZED, "mfa_required"),
            Self::InvalidToken => (StatusCode::UNAUTHORIZED, "invalid_token"),
            Self::InvalidResetToken => (StatusCode::BAD_REQUEST, "invalid_token"),
            Self::InvalidCode => (StatusCode::BAD_REQUEST, "invalid_code"),
            Self::InvalidSecondFactor => (StatusCode::UNAUTHORIZED, "invalid_code"),
            Self::MfaAlreadyEnabled => (StatusCode::BAD_REQUEST, "mfa_already_enabled"),
            Self::MfaNotEnabled => (StatusCode::BAD_REQUEST, "mfa_not_enabled"),
            Self::MfaSetupRequired => (StatusCode::BAD_REQUEST, "mfa_setup_required"),
            Self::MfaNotPending => (StatusCode::BAD_REQUEST, "mfa_not_pending"),
            Self::ReauthRequired => (StatusCode::FORBIDDEN, "reauth_required"),
            Self::UnknownProvider => (StatusCode::BAD_REQUEST, "unknown_provider"),
            Self::InvalidRedirect => (StatusCode::BAD_REQUEST, "invalid_redirect"),
            Self::InvalidState => (StatusCode::BAD_REQUEST, "invalid_state"),
            Self::ProviderAlreadyLinked => (StatusCode::BAD_REQUEST, "provider_already_linked"),
            Self::NoUsableEmail(_) => (StatusCode::BAD_REQUEST, "no_usable_email"),
            Self::NotLinked => (StatusCode::BAD_REQUEST, "not_linked"),
            Self::LastLoginMethod => (StatusCode::BAD_REQUEST, "last_login_method"),
            Self::ProviderRefused => (StatusCode::UNAUTHORIZED, "provider_refused"),
            Self::ProviderUnavailable => (StatusCode::BAD_GATEWAY, "provider_unavailable"),
            Self::InvalidPasskey(_) => (StatusCode::BAD_REQUEST, "invalid_passkey"),
            Self::PasskeyRefused => (StatusCode::UNAUTHORIZED, "passkey_refused"),
            Self::PasskeyAlreadyRegistered => {
                (StatusCode::BAD_REQUEST, "passkey_already_registered")
            }
            Self::ForbiddenOrigin => (StatusCode::FORBIDDEN, "forbidden_origin"),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Self::MethodNotAllowed { .. } => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            Self::RequestTimeout => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Self::Busy | Self::NotReady => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }

    /// The stable `error` code.
    pub fn code(&self) -> &'static str {
        self.status_and_code().1
    }

    /// Wraps an unexpected error.
    pub fn internal(err: impl StdError + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(err))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status_and_code().0
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(source) = self {
            tracing::error!(cause = %cause_chain(source.as_ref()), "internal error");
        }
        let (status, code) = self.status_and_code();
        let mut response = HttpResponse::build(status);
        match self {
            Self::RateLimited { retry_after } => {
                response.insert_header((header::RETRY_AFTER, retry_after.max(&1).to_string()));
            }
            Self::Busy => {
                response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
            }
            Self::MethodNotAllowed { allow } => {
                response.insert_header((header::ALLOW, HeaderValue::from_static(allow)));
            }
            _ => {}
        }
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        response.json(ErrorBody {
            error: code,
            message: self.to_string(),
        })
    }
}

fn cause_chain(err: &(dyn StdError + 'static)) -> String {
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let _ = write!(chain, ": {cause}");
        source = cause.source();
    }
    chain
}

// ---- Domain errors into answers ---------------------------------------------------------------------------
// Every conversion from a domain or application crate's error lives in this section, one `From` per crate (and
// the passkey readings that depend on the ceremony), so the contract's codes are chosen in one place.

impl From<IdentityError> for ApiError {
    fn from(err: IdentityError) -> Self {
        match err {
            IdentityError::InvalidEmail => Self::InvalidRequest("invalid email address".into()),
            IdentityError::InvalidName(why) => Self::InvalidRequest(why.into()),
            IdentityError::WeakPassword(problem) => Self::WeakPassword(problem),
            IdentityError::EmailTaken => Self::EmailTaken,
            IdentityError::InvalidCredentials => Self::InvalidCredentials,
            IdentityError::InvalidResetToken => Self::InvalidResetToken,
            IdentityError::Busy => Self::Busy,
            IdentityError::Hashing(_) | IdentityError::Store(_) => Self::internal(err),
        }
    }
}

impl From<SessionError> for ApiError {
    fn from(err: SessionError) -> Self {
        match err {
            SessionError::InvalidAccessToken => Self::Unauthorized,
            SessionError::InvalidRefreshToken | SessionError::RefreshTokenReused => {
                Self::InvalidToken
            }
            SessionError::Key(_) | SessionError::Token(_) | SessionError::Store(_) => {
                Self::internal(err)
            }
        }
    }
}

impl From<MfaError> for ApiError {
    fn from(err: MfaError) -> Self {
        match err {
            MfaError::AlreadyEnabled => Self::MfaAlreadyEnabled,
            MfaError::NotEnabled => Self::MfaNotEnabled,
            MfaError::NoPendingEnrolment => Self::MfaSetupRequired,
            MfaError::InvalidCode => Self::InvalidCode,
            MfaError::Crypto(_) | MfaError::Store(_) => Self::internal(err),
        }
    }
}

impl From<OAuthError> for ApiError {
    fn from(err: OAuthError) -> Self {
        match err {
            OAuthError::UnknownProvider => Self::UnknownProvider,
            OAuthError::InvalidRedirect => Self::InvalidRedirect,
            OAuthError::InvalidState => Self::InvalidState,
            OAuthError::ProviderAlreadyLinked => Self::ProviderAlreadyLinked,
            OAuthError::NoUsableEmail(why) => Self::NoUsableEmail(why),
            OAuthError::NotLinked => Self::NotLinked,
            OAuthError::LastLoginMethod => Self::LastLoginMethod,
            OAuthError::Refused(reason) => {
                tracing::info!(reason = %reason, "OAuth provider refused the sign-in");
                Self::ProviderRefused
            }
            OAuthError::Unavailable(reason) => {
                tracing::warn!(reason = %reason, "OAuth provider unavailable");
                Self::ProviderUnavailable
            }
            OAuthError::Store(err) => Self::internal(err),
        }
    }
}

impl ApiError {
    /// A passkey error while registering: the caller's answer is at fault (400).
    pub fn from_registration(err: PasskeyError) -> Self {
        match err {
            PasskeyError::Malformed(why) | PasskeyError::Rejected(why) => Self::InvalidPasskey(why),
            PasskeyError::UnknownCeremony | PasskeyError::CounterRegressed => {
                Self::InvalidPasskey("no live registration challenge matches this answer".into())
            }
            other => other.into(),
        }
    }

    /// A passkey sign-in's failure: a passkey refusal says nothing about which check failed.
    pub fn from_passkey_sign_in(err: AccountError) -> Self {
        match err {
            AccountError::Passkey(err) => Self::from_login(err),
            other => other.into(),
        }
    }

    /// A passkey error while signing in: not signed in (401), with nothing said about which check failed.
    fn from_login(err: PasskeyError) -> Self {
        match err {
            PasskeyError::Malformed(why) => {
                Self::InvalidRequest(format!("malformed passkey response: {why}"))
            }
            PasskeyError::Rejected(_)
            | PasskeyError::UnknownCeremony
            | PasskeyError::CounterRegressed => Self::PasskeyRefused,
            other => other.into(),
        }
    }
}

impl From<PasskeyError> for ApiError {
    fn from(err: PasskeyError) -> Self {
        match err {
            PasskeyError::NotFound => Self::NotFound,
            PasskeyError::LastLoginMethod => Self::LastLoginMethod,
            PasskeyError::AlreadyRegistered => Self::PasskeyAlreadyRegistered,
            PasskeyError::Malformed(why) => Self::InvalidRequest(why),
            PasskeyError::Rejected(_)
            | PasskeyError::UnknownCeremony
            | PasskeyError::CounterRegressed => Self::PasskeyRefused,
            PasskeyError::RelyingParty(_) | PasskeyError::Store(_) => Self::internal(err),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::RateLimited { retry_after } | AccountError::LockedOut { retry_after } => {
                Self::RateLimited { retry_after }
            }
            AccountError::SecondFactorNotPending => Self::MfaNotPending,
            AccountError::ReauthRequired => Self::ReauthRequired,
            AccountError::SessionNotFound => Self::NotFound,
            AccountError::InvalidSecondFactor => Self::InvalidSecondFactor,
            AccountError::Identity(err) => err.into(),
            AccountError::Session(err) => err.into(),
            AccountError::Mfa(err) => err.into(),
            AccountError::OAuth(err) => err.into(),
            AccountError::Passkey(err) => err.into(),
            AccountError::Store(err) => err.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        Self::internal(err)
    }
}

// ---- End of the domain errors ------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::mem::discriminant;

    use actix_web::body::to_bytes;

    use super::*;

    /// What a client receives: status, JSON body, `Retry-After` and `Cache-Control`.
    struct Rendered {
        status: StatusCode,
        body: serde_json::Value,
        retry_after: Option<String>,
        cache_control: Option<String>,
    }

    async fn rendered(err: ApiError) -> Rendered {
        let response = err.error_response();
        let header = |name| {
            response
                .headers()
                .get(name)
                .map(|v: &HeaderValue| v.to_str().unwrap().to_owned())
        };
        let (retry_after, cache_control) =
            (header(header::RETRY_AFTER), header(header::CACHE_CONTROL));
        let status = response.status();
        let body = to_bytes(response.into_body()).await.unwrap();
        Rendered {
            status,
            body: serde_json::from_slice(&body).unwrap(),
            retry_after,
            cache_control,
        }
    }

    /// One row per variant, with the status and code the contract (docs/api.md) gives it.
    fn contract() -> Vec<(ApiError, u16, &'static str)> {
        vec![
            (ApiError::InvalidRequest("x".into()), 400, "invalid_request"),
            (
                ApiError::WeakPassword(PasswordProblem::Common),
                400,
                "weak_password",
            ),
            (ApiError::EmailTaken, 400, "email_taken"),
            (ApiError::InvalidCredentials, 401, "invalid_credentials"),
            (ApiError::Unauthorized, 401, "unauthorized"),
            (ApiError::MfaRequired, 401, "mfa_required"),
            (ApiError::InvalidToken, 401, "invalid_token"),
            (ApiError::InvalidResetToken, 400, "invalid_token"),
            (ApiError::InvalidCode, 400, "invalid_code"),
            (ApiError::InvalidSecondFactor, 401, "invalid_code"),
            (ApiError::MfaAlreadyEnabled, 400, "mfa_already_enabled"),
            (ApiError::MfaNotEnabled, 400, "mfa_not_enabled"),
            (ApiError::ReauthRequired, 403, "reauth_required"),
            (ApiError::MfaSetupRequired, 400, "mfa_setup_required"),
            (ApiError::MfaNotPending, 400, "mfa_not_pending"),
            (ApiError::UnknownProvider, 400, "unknown_provider"),
            (ApiError::InvalidRedirect, 400, "invalid_redirect"),
            (ApiError::InvalidState, 400, "invalid_state"),
            (
                ApiError::ProviderAlreadyLinked,
                400,
                "provider_already_linked",
            ),
            (ApiError::NoUsableEmail("x"), 400, "no_usable_email"),
            (ApiError::NotLinked, 400, "not_linked"),
            (ApiError::LastLoginMethod, 400, "last_login_method"),
            (ApiError::ProviderRefused, 401, "provider_refused"),
            (ApiError::ProviderUnavailable, 502, "provider_unavailable"),
            (ApiError::InvalidPasskey("x".into()), 400, "invalid_passkey"),
            (ApiError::PasskeyRefused, 401, "passkey_refused"),
            (
                ApiError::PasskeyAlreadyRegistered,
                400,
                "passkey_already_registered",
            ),
            (ApiError::ForbiddenOrigin, 403, "forbidden_origin"),
            (ApiError::NotFound, 404, "not_found"),
            (
                ApiError::MethodNotAllowed { allow: "POST" },
                405,
                "method_not_allowed",
            ),
            (ApiError::RequestTimeout, 408, "request_timeout"),
            (
                ApiError::RateLimited { retry_after: 30 },
                429,
                "rate_limited",
            ),
            (ApiError::Busy, 503, "unavailable"),
            (ApiError::NotReady, 503, "unavailable"),
            (
                ApiError::internal(std::io::Error::other("x")),
                500,
                "internal_error",
            ),
        ]
    }

    #[actix_web::test]
    async fn each_error_has_its_status_and_code() {
        for (err, status, code) in contract() {
            assert_eq!(
                err.status_and_code(),
                (StatusCode::from_u16(status).unwrap(), code)
            );
            let message = err.to_string();
            let answer = rendered(err).await;
            assert_eq!(answer.status.as_u16(), status, "{code}");
            assert_eq!(
                answer.body,
                serde_json::json!({ "error": code, "message": message })
            );
            assert!(!message.is_empty(), "{code} has no message");
            assert_eq!(answer.cache_control.as_deref(), Some("no-store"), "{code}");
        }
    }

    #[test]
    fn the_contract_table_names_each_variant_once() {
        let rows = contract();
        let variants: HashSet<_> = rows.iter().map(|(err, ..)| discriminant(err)).collect();
        assert_eq!(variants.len(), rows.len());
    }

    #[actix_web::test]
    async fn a_failed_readiness_check_answers_as_it_always_has() {
        let answer = rendered(ApiError::NotReady).await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            answer.body,
            serde_json::json!({ "error": "unavailable", "message": "the database does not answer" })
        );
        assert_eq!(answer.retry_after, None);
    }

    #[actix_web::test]
    async fn internal_errors_show_nothing_of_their_cause() {
        let cause = std::io::Error::other("connection to db-secret-host refused");
        let answer = rendered(ApiError::internal(cause)).await;
        assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(answer.body["error"], "internal_error");
        assert!(!answer.body.to_string().contains("db-secret-host"));
    }

    #[actix_web::test]
    async fn throttling_answers_carry_retry_after() {
        let limited = rendered(ApiError::RateLimited { retry_after: 42 }).await;
        assert_eq!(limited.retry_after.as_deref(), Some("42"));
        let busy = rendered(ApiError::Busy).await;
        assert_eq!(busy.retry_after.as_deref(), Some("1"));
    }

    #[test]
    fn domain_errors_map_to_the_contract() {
        assert_eq!(
            ApiError::from(IdentityError::InvalidEmail).code(),
            "invalid_request"
        );
        assert_eq!(
            ApiError::from(IdentityError::EmailTaken).code(),
            "email_taken"
        );
        assert_eq!(ApiError::from(IdentityError::Busy).code(), "unavailable");
        assert_eq!(
            ApiError::from(SessionError::RefreshTokenReused).code(),
            "invalid_token"
        );
        assert_eq!(
            ApiError::from(SessionError::InvalidAccessToken).code(),
            "unauthorized"
        );
    }
}
