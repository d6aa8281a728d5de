//! Password reset by email: a single-use token (256 bits, stored only as a hash, one hour by default), sent
//! as a link; a newer request supersedes older tokens; using one sets the new password.

use authd_kernel::{
    Client, Clock, EventKind, OpaqueToken, Random, Secret, SecurityEvent, StoreError, TokenHash,
    UserId,
};
use time::{Duration, OffsetDateTime};

use crate::ports::{PasswordHasher, PasswordResetRepository, UserRepository};
use crate::{Email, IdentityError, NewPassword, OutgoingEmail, User};

/// A reset token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReset {
    /// SHA-256 of the token.
    pub hash: TokenHash,
    /// Whose password it resets.
    pub user_id: UserId,
    /// Issue time.
    pub created_at: OffsetDateTime,
    /// Expiry.
    pub expires_at: OffsetDateTime,
    /// When it was used; a used token never works again.
    pub used_at: Option<OffsetDateTime>,
}

/// How resets behave, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetPolicy {
    /// Token lifetime (default one hour).
    pub ttl: Duration,
    /// The page of the frontend that takes the token: the link is `<reset_url>?token=<token>`.
    pub reset_url: String,
    /// The product name used in the email.
    pub product: String,
}

/// The password-reset use cases over their ports.
#[derive(Debug, Clone)]
pub struct PasswordResetService<U, H, C, R> {
    users: U,
    hasher: H,
    clock: C,
    random: R,
    policy: ResetPolicy,
}

impl<U, H, C, R> PasswordResetService<U, H, C, R>
where
    U: UserRepository + PasswordResetRepository,
    H: PasswordHasher,
    C: Clock,
    R: Random,
{
    /// Wires the use cases.
    pub fn new(users: U, hasher: H, clock: C, random: R, policy: ResetPolicy) -> Self {
        Self {
            users,
            hasher,
            clock,
            random,
            policy,
        }
    }

    /// For an existing account: replaces its unused reset tokens with a new one and queues the email with
    /// the link, in one transaction. For an unknown email: nothing. The caller answers the same either way.
    /// `correlation` (a request id) is kept with the queued email so a delivery failure can be traced.
    ///
    /// # Errors
    /// [`IdentityError::InvalidEmail`], or a storage failure.
    pub async fn request(
        &self,
        email: &Email,
        correlation: Option<&str>,
        client: &Client,
    ) -> Result<(), IdentityError> {
        let Some(user) = self.users.find_by_email(email).await? else {
            return Ok(());
        };
        let now = self.clock.now();
        let token = OpaqueToken::generate(&self.random);
        let reset = PasswordReset {
            hash: token.hash,
            user_id: user.id,
            created_at: now,
            expires_at: now + self.policy.ttl,
            used_at: None,
        };
        let email = self.email_for(&user, &token.secret);
        let requested = self.event(EventKind::PasswordResetRequested, user.id, client);
        self.users
            .replace_reset_and_enqueue(&reset, &email, correlation, &requested)
            .await?;
        Ok(())
    }

    /// Sets a new password with a reset token, spends the token and signs the user out everywhere. Returns
    /// whose password changed.
    ///
    /// # Errors
    /// [`IdentityError::WeakPassword`], [`IdentityError::InvalidResetToken`] (unknown, used, expired or
    /// superseded), [`IdentityError::Busy`], or a storage failure.
    pub async fn reset(
        &self,
        token: &Secret,
        new_password: Secret,
        client: &Client,
    ) -> Result<UserId, IdentityError> {
        let password = NewPassword::parse(new_password)?;
        let hash = TokenHash::of(token.expose());
        let reset = self
            .live_reset(&hash)
            .await?
            .ok_or(IdentityError::InvalidResetToken)?;
        let password_hash = self.hasher.hash(&password).await?;
        let done = self.event(EventKind::PasswordReset, reset.user_id, client);
        if !self
            .users
            .consume_reset_and_sign_out(
                &hash,
                reset.user_id,
                &password_hash,
                self.clock.now(),
                &done,
            )
            .await?
        {
            // Spent by a concurrent request between our read and our write.
            return Err(IdentityError::InvalidResetToken);
        }
        Ok(reset.user_id)
    }

    fn event(&self, kind: EventKind, user: UserId, client: &Client) -> SecurityEvent {
        SecurityEvent::new(kind, user, client, &self.clock, &self.random)
    }

    async fn live_reset(&self, hash: &TokenHash) -> Result<Option<PasswordReset>, StoreError> {
        let now = self.clock.now();
        let reset = self.users.find_reset(hash).await?;
        Ok(reset.filter(|r| r.used_at.is_none() && now < r.expires_at))
    }

    fn email_for(&self, user: &User, token: &Secret) -> OutgoingEmail {
        let link = format!("{}?token={}", self.policy.reset_url, token.expose());
        let minutes = self.policy.ttl.whole_minutes();
        let product = &self.policy.product;
        let name = user.name.as_str();
        let text = format!(
            "Hello {name},\n\nSomeone asked to reset the password of your {product} account. To choose a new \
             password, open this link within {minutes} minutes:\n\n{link}\n\nIf it was not you, ignore this \
             email: your password stays as it is.\n"
        );
        let html = format!(
            "<p>Hello {name},</p><p>Someone asked to reset the password of your {product} account. To choose a \
             new password, open this link within {minutes} minutes:</p><p><a href=\"{link}\">{link}</a></p><p>If \
             it was not you, ignore this email: your password stays as it is.</p>",
            name = escape_html(name),
            product = escape_html(product),
            link = escape_html(&link),
        );
        OutgoingEmail {
            to: user.email.clone(),
            subject: format!("Reset your {product} password"),
            text,
            html,
        }
    }
}

fn escape_html(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape_html;

    #[test]
    fn html_escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape_html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
