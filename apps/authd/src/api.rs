//! The HTTP bodies of the contract. They live only here and convert into domain requests.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder};
use authd_account::{FullSession, SignIn};
use authd_identity::{Membership, User};
use authd_kernel::Secret;
use authd_mfa::RecoveryCodes;
use authd_session::PendingTokens;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::cookies;
use crate::state::WebSettings;

/// A secret in a request body (password, token): never shown by `Debug`.
#[derive(Deserialize, Default)]
#[serde(transparent)]
pub struct SecretField(String);

impl SecretField {
    /// Moves the value into a domain secret.
    pub fn into_secret(self) -> Secret {
        Secret::new(self.0)
    }

    /// Whether the field is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for SecretField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// `v1.registerRequest`
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterBody {
    /// Email address; trimmed and compared case-insensitively.
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// Display name, 1 to 100 characters.
    #[schema(example = "Ada Lovelace")]
    pub name: String,
    /// 8 to 128 characters, not a common password.
    #[schema(value_type = String, format = Password)]
    pub password: SecretField,
}

/// `v1.loginRequest`
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    /// Email address.
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// Password.
    #[schema(value_type = String, format = Password)]
    pub password: SecretField,
}

/// `v1.refreshRequest`: the body's token wins over the `refresh_token` cookie.
#[derive(Debug, Deserialize, ToSchema, Default)]
pub struct RefreshBody {
    /// A refresh token; optional when the cookie carries one.
    #[schema(value_type = Option<String>)]
    pub refresh_token: Option<SecretField>,
}

/// `v1.forgotPasswordRequest`
#[derive(Debug, Deserialize, ToSchema)]
pub struct ForgotPasswordBody {
    /// The account's email address.
    #[schema(example = "ada@example.com")]
    pub email: String,
}

/// `v1.resetPasswordRequest`
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetPasswordBody {
    /// The token from the emailed link.
    #[schema(value_type = String)]
    pub token: SecretField,
    /// The new password (same policy as registration).
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretField,
}

/// `v1.UserResponse`
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    /// User id (UUID).
    pub id: String,
    /// Normalised email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// False for accounts made through a provider that never set a password.
    pub has_password: bool,
    /// Creation time, RFC 3339.
    pub created_at: String,
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.as_str().to_owned(),
            name: user.name.as_str().to_owned(),
            has_password: user.has_password(),
            created_at: rfc3339(user.created_at),
        }
    }
}

/// `v1.WorkspaceResponse`
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceResponse {
    /// Workspace id (UUID).
    pub id: String,
    /// Name.
    pub name: String,
    /// The caller's role: owner, admin or member.
    pub role: String,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Last change, RFC 3339.
    pub updated_at: String,
}

impl From<&Membership> for WorkspaceResponse {
    fn from(m: &Membership) -> Self {
        Self {
            id: m.workspace.id.as_uuid().to_string(),
            name: m.workspace.name.clone(),
            role: m.role.as_str().to_owned(),
            created_at: rfc3339(m.workspace.created_at),
            updated_at: rfc3339(m.workspace.updated_at),
        }
    }
}

/// `v1.ValidateResponse`
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidateResponse {
    /// Always `active`.
    #[schema(example = "active")]
    pub status: &'static str,
    /// The caller.
    pub user: UserResponse,
    /// The caller's workspaces.
    pub workspaces: Vec<WorkspaceResponse>,
}

/// The token-issuing body of register, login and refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthenticatedResponse {
    /// Always `authenticated`.
    #[schema(example = "authenticated")]
    pub status: &'static str,
    /// The signed-in user.
    pub user: UserResponse,
    /// Biscuit access token (also set as the `access_token` cookie).
    pub access_token: String,
    /// Opaque refresh token (also set as the `refresh_token` cookie).
    pub refresh_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
}

/// `v1.mfaVerifyRequest` and `v1.mfaRecoveryVerifyRequest`
#[derive(Debug, Deserialize, ToSchema)]
pub struct CodeBody {
    /// A 6-digit TOTP code, or a recovery code where one is accepted.
    #[schema(example = "123456")]
    pub code: String,
}

/// `v1.mfaSetupResponse`
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaSetupResponse {
    /// The TOTP secret, base32, for manual entry.
    pub secret: String,
    /// `otpauth://totp/<issuer>:<email>?secret=...&issuer=...`
    pub otpauth_url: String,
    /// A PNG of the otpauth URL as a QR code, base64.
    pub qr_code_base64: String,
}

/// `v1.mfaRecoveryCodesResponse`
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodesResponse {
    /// Ten single-use codes, shown once.
    pub recovery_codes: Vec<String>,
    /// When they were generated, RFC 3339.
    pub recovery_codes_generated_at: String,
}

/// The answer to a first factor when the user has MFA: a pending session.
#[derive(Debug, Serialize, ToSchema)]
pub struct MfaRequiredResponse {
    /// Always `mfa_required`.
    #[schema(example = "mfa_required")]
    pub status: &'static str,
    /// The pending access token (also set as the `access_token` cookie); accepted only by
    /// `/auth/mfa/verify`, `/auth/mfa/recovery-verify` and `/auth/logout`.
    pub mfa_token: String,
    /// Seconds the pending session lives.
    #[schema(example = 300)]
    pub expires_in: i64,
}

/// What a first factor (password, passkey) earns: a full session, or a pending one that waits for the
/// second factor. Documents the two shapes a sign-in's 200 may take.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SignInResponse {
    /// Signed in.
    Authenticated(AuthenticatedResponse),
    /// Pending: finish at `/auth/mfa/verify` or `/auth/mfa/recovery-verify`.
    MfaRequired(MfaRequiredResponse),
}

/// One provider linked to the caller's account.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkedProviderResponse {
    /// `github` or `google`.
    pub provider: &'static str,
    /// The email the provider reported when it was linked.
    pub email: Option<String>,
    /// When it was linked, RFC 3339.
    pub linked_at: String,
}

/// A body with only a status word (`logged_out`, `ok`, ...).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusResponse {
    /// What happened.
    pub status: &'static str,
}

/// RFC 3339 in UTC (`2026-01-02T03:04:05.123456Z`).
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// The token-issuing answer: the body and both cookies.
pub fn authenticated(status: StatusCode, session: FullSession, web: &WebSettings) -> HttpResponse {
    let FullSession { user, tokens } = session;
    let mut response = no_store(status);
    response.cookie(cookies::access(
        tokens.access_token.expose(),
        tokens.expires_in,
        web,
    ));
    response.cookie(cookies::refresh(
        tokens.refresh_token.expose(),
        tokens.refresh_expires_in,
        web,
    ));
    response.json(AuthenticatedResponse {
        status: "authenticated",
        user: (&user).into(),
        access_token: tokens.access_token.expose().to_owned(),
        refresh_token: tokens.refresh_token.expose().to_owned(),
        token_type: "Bearer",
        expires_in: tokens.expires_in,
    })
}

/// The answer to a sign-in: the token-issuing body, or `mfa_required` for a pending session.
pub fn signed_in(sign_in: SignIn, web: &WebSettings) -> HttpResponse {
    match sign_in {
        SignIn::Complete(session) => authenticated(StatusCode::OK, session, web),
        SignIn::SecondFactorRequired(pending) => mfa_required(&pending.tokens, web),
    }
}

/// The answer for a user whose sign-in waits for a second factor: the pending token, as body and cookie.
fn mfa_required(tokens: &PendingTokens, web: &WebSettings) -> HttpResponse {
    no_store(StatusCode::OK)
        .cookie(cookies::access(
            tokens.access_token.expose(),
            tokens.expires_in,
            web,
        ))
        .json(MfaRequiredResponse {
            status: "mfa_required",
            mfa_token: tokens.access_token.expose().to_owned(),
            expires_in: tokens.expires_in,
        })
}

/// The answer carrying a fresh set of recovery codes.
pub fn recovery_codes(codes: RecoveryCodes) -> HttpResponse {
    no_store(StatusCode::OK).json(RecoveryCodesResponse {
        recovery_codes: codes.codes.iter().map(|c| c.expose().to_owned()).collect(),
        recovery_codes_generated_at: rfc3339(codes.generated_at),
    })
}

/// A response builder that forbids caching: every auth answer is personal.
pub fn no_store(status: StatusCode) -> HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder.insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"));
    builder
}
