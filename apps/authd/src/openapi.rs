//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::routes::{events, mfa, native, oauth, ops, passkeys, reset, sessions};

/// authd's API.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "authd", description = "Authentication service: sign-up, login, sessions and tokens, password reset, TOTP MFA, OAuth, passkeys."),
    paths(
        native::register,
        native::login,
        native::logout,
        native::refresh,
        native::validate,
        sessions::reauthenticate,
        sessions::list,
        sessions::revoke,
        sessions::revoke_others,
        events::list,
        mfa::setup,
        mfa::confirm,
        mfa::verify,
        mfa::recovery_verify,
        mfa::disable,
        mfa::recovery_codes,
        mfa::recovery_codes_regenerate,
        passkeys::register_challenge,
        passkeys::register,
        passkeys::login_challenge,
        passkeys::login,
        passkeys::list,
        passkeys::delete,
        oauth::login,
        oauth::link,
        oauth::callback,
        oauth::unlink,
        oauth::list,
        reset::forgot_password,
        reset::reset_password,
        ops::keys,
        ops::healthz,
        ops::readyz,
        ops::metrics,
        ops::openapi_json,
    ),
    modifiers(&Security, &ForbiddenOrigin),
    tags(
        (name = "native", description = "Email and password authentication and sessions"),
        (name = "password reset", description = "Reset a forgotten password through an emailed link"),
        (name = "mfa", description = "TOTP multi-factor authentication and recovery codes"),
        (name = "oauth", description = "Sign-in and account linking with GitHub and Google"),
        (name = "passkeys", description = "WebAuthn passkeys: registration, sign-in (also usernameless), management"),
        (name = "sessions", description = "Step-up (re-authentication) and the sessions a user can see and end"),
        (name = "operations", description = "Health, keys, metrics"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("Biscuit")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("access_token"))),
        );
    }
}

/// Every state-changing operation may meet the CSRF check (`csrf.rs`), which sits in front of all of them:
/// documented once here instead of on each handler.
struct ForbiddenOrigin;

impl Modify for ForbiddenOrigin {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let forbidden = ResponseBuilder::new()
            .description(
                "forbidden_origin: a cookie-authenticated request from an origin that is not allowed",
            )
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        let state_changing = openapi
            .paths
            .paths
            .values_mut()
            .flat_map(|item| [item.post.as_mut(), item.delete.as_mut()])
            .flatten();
        for operation in state_changing {
            add_response(operation, "403", &forbidden);
        }
    }
}

fn add_response(operation: &mut Operation, status: &str, response: &utoipa::openapi::Response) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| response.clone().into());
}
