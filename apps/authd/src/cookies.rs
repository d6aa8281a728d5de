//! The auth cookies: `access_token` (HttpOnly, SameSite=Lax, Path=/) and `refresh_token` (HttpOnly,
//! SameSite=Strict, Path=/auth, so it only travels to this service's auth routes).

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::cookie::{Cookie, SameSite};

use crate::state::WebSettings;

/// Name of the access-token cookie.
pub const ACCESS_COOKIE: &str = "access_token";
/// Name of the refresh-token cookie.
pub const REFRESH_COOKIE: &str = "refresh_token";

/// The access-token cookie, living as long as the token.
pub fn access(value: &str, max_age_secs: i64, web: &WebSettings) -> Cookie<'static> {
    build(
        ACCESS_COOKIE,
        value.to_owned(),
        "/",
        SameSite::Lax,
        max_age_secs,
        web,
    )
}

/// The refresh-token cookie.
pub fn refresh(value: &str, max_age_secs: i64, web: &WebSettings) -> Cookie<'static> {
    build(
        REFRESH_COOKIE,
        value.to_owned(),
        "/auth",
        SameSite::Strict,
        max_age_secs,
        web,
    )
}

/// Name of the cookie that binds an OAuth flow to the browser that began it.
pub const OAUTH_BINDING_COOKIE: &str = "oauth_binding";

/// The OAuth browser-binding cookie. SameSite=Lax, because the provider's redirect back is a top-level
/// navigation from another site; scoped to `/auth`, where the callback lives.
pub fn oauth_binding(value: &str, web: &WebSettings) -> Cookie<'static> {
    build(
        OAUTH_BINDING_COOKIE,
        value.to_owned(),
        "/auth",
        SameSite::Lax,
        web.oauth_state_ttl_secs,
        web,
    )
}

/// The expired binding cookie, sent once the callback used it.
pub fn oauth_binding_cleared(web: &WebSettings) -> Cookie<'static> {
    build(
        OAUTH_BINDING_COOKIE,
        String::new(),
        "/auth",
        SameSite::Lax,
        0,
        web,
    )
}

/// Expired copies of both cookies, which make the browser drop them.
pub fn cleared(web: &WebSettings) -> [Cookie<'static>; 2] {
    [
        build(ACCESS_COOKIE, String::new(), "/", SameSite::Lax, 0, web),
        build(
            REFRESH_COOKIE,
            String::new(),
            "/auth",
            SameSite::Strict,
            0,
            web,
        ),
    ]
}

fn build(
    name: &'static str,
    value: String,
    path: &'static str,
    same_site: SameSite,
    max_age_secs: i64,
    web: &WebSettings,
) -> Cookie<'static> {
    Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .secure(web.secure_cookies)
        .same_site(same_site)
        .max_age(CookieDuration::seconds(max_age_secs))
        .finish()
}
