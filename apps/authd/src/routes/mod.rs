//! The routes of the contract, grouped by flow. Each path is one resource, so a wrong method gets 405.

pub mod mfa;
pub mod native;
pub mod oauth;
pub mod ops;
pub mod passkeys;
pub mod reset;

use actix_web::web;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/register").route(web::post().to(native::register)))
        .service(web::resource("/auth/login").route(web::post().to(native::login)))
        .service(web::resource("/auth/logout").route(web::post().to(native::logout)))
        .service(web::resource("/auth/refresh").route(web::post().to(native::refresh)))
        .service(web::resource("/auth/validate").route(web::get().to(native::validate)))
        .service(web::resource("/auth/mfa/setup").route(web::post().to(mfa::setup)))
        .service(web::resource("/auth/mfa/confirm").route(web::post().to(mfa::confirm)))
        .service(web::resource("/auth/mfa/verify").route(web::post().to(mfa::verify)))
        .service(
            web::resource("/auth/mfa/recovery-verify").route(web::post().to(mfa::recovery_verify)),
        )
        .service(web::resource("/auth/mfa/disable").route(web::post().to(mfa::disable)))
        .service(
            web::resource("/auth/mfa/recovery-codes").route(web::post().to(mfa::recovery_codes)),
        )
        .service(
            web::resource("/auth/mfa/recovery-codes/regenerate")
                .route(web::post().to(mfa::recovery_codes_regenerate)),
        )
        .service(
            web::resource("/auth/forgot-password").route(web::post().to(reset::forgot_password)),
        )
        .service(web::resource("/auth/reset-password").route(web::post().to(reset::reset_password)))
        .service(web::resource("/auth/keys").route(web::get().to(ops::keys)))
        .service(web::resource("/healthz").route(web::get().to(ops::healthz)))
        .service(web::resource("/readyz").route(web::get().to(ops::readyz)))
        .service(web::resource("/metrics").route(web::get().to(ops::metrics)))
        .service(web::resource("/openapi.json").route(web::get().to(ops::openapi_json)))
        .service(web::resource("/auth/passkeys").route(web::get().to(passkeys::list)))
        .service(
            web::resource("/auth/passkeys/register-challenge")
                .route(web::post().to(passkeys::register_challenge)),
        )
        .service(web::resource("/auth/passkeys/register").route(web::post().to(passkeys::register)))
        .service(
            web::resource("/auth/passkeys/login-challenge")
                .route(web::post().to(passkeys::login_challenge)),
        )
        .service(web::resource("/auth/passkeys/login").route(web::post().to(passkeys::login)))
        .service(
            web::resource("/auth/passkeys/{passkey_id}").route(web::delete().to(passkeys::delete)),
        )
        .service(web::resource("/auth/providers").route(web::get().to(oauth::list)))
        .service(web::resource("/auth/providers/{provider}").route(web::delete().to(oauth::unlink)))
        // Generic provider paths last, after every literal /auth/... route.
        .service(web::resource("/auth/{provider}/login").route(web::get().to(oauth::login)))
        .service(web::resource("/auth/{provider}/link").route(web::get().to(oauth::link)))
        .service(web::resource("/auth/{provider}/callback").route(web::get().to(oauth::callback)));
}
