//! The MFA use cases: enrol (setup, confirm), verify a TOTP or recovery code, disable, and regenerate
//! recovery codes.

use std::fmt;

use authd_kernel::{Client, Clock, EventKind, Random, Secret, SecurityEvent, UserId};
use time::OffsetDateTime;

use crate::ports::MfaRepository;
use crate::recovery::{self, RecoveryCodes};
use crate::{
    MfaError, MfaRecord, MfaState, RecoveryCodeHash, SecretCipher, TotpSecret, otpauth, qr, totp,
};

/// The plain settings the use cases need (the app reads them from configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaPolicy {
    /// The issuer authenticator apps show next to the account (`AUTHD__MFA__ISSUER`).
    pub issuer: String,
}

impl Default for MfaPolicy {
    /// The contract's default issuer, `authd`.
    fn default() -> Self {
        Self {
            issuer: "authd".into(),
        }
    }
}

/// What setup hands the user, once: the secret three ways.
#[derive(Clone)]
pub struct SetupOutput {
    /// The secret in base32 (RFC 4648, uppercase, no padding), for typing into an app.
    pub secret_base32: Secret,
    /// The `otpauth://` URL, for a link on a phone.
    pub otpauth_url: Secret,
    /// A PNG of the QR code of the URL, base64 (standard alphabet). It holds the secret too.
    pub qr_png_base64: String,
}

impl fmt::Debug for SetupOutput {
    // The QR code is the secret in another form, so it is redacted like the other two.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetupOutput")
            .field("secret_base32", &self.secret_base32)
            .field("otpauth_url", &self.otpauth_url)
            .field("qr_png_base64", &"[redacted]")
            .finish()
    }
}

/// The MFA use cases over their ports.
#[derive(Debug, Clone)]
pub struct MfaService<M, C, R> {
    repo: M,
    cipher: SecretCipher,
    policy: MfaPolicy,
    clock: C,
    random: R,
}

impl<M, C, R> MfaService<M, C, R>
where
    M: MfaRepository,
    C: Clock,
    R: Random,
{
    /// Wires the use cases to their ports.
    pub fn new(repo: M, cipher: SecretCipher, policy: MfaPolicy, clock: C, random: R) -> Self {
        Self {
            repo,
            cipher,
            policy,
            clock,
            random,
        }
    }

    /// Starts (or restarts) enrolment: a fresh secret replaces any pending one and stays pending until
    /// [`MfaService::confirm`]. `account` is the label apps show, the user's email.
    ///
    /// # Errors
    /// [`MfaError::AlreadyEnabled`]; [`MfaError::Crypto`] if the QR code cannot be drawn (an issuer and
    /// account far too long for one); a storage failure.
    pub async fn setup(&self, user: UserId, account: &str) -> Result<SetupOutput, MfaError> {
        // Checked first so an enabled user costs no secret, encryption or QR code; `save_pending` checks
        // again atomically, for a confirm racing this call.
        if self
            .active(user)
            .await?
            .is_some_and(|r| r.state == MfaState::Enabled)
        {
            return Err(MfaError::AlreadyEnabled);
        }
        let secret = TotpSecret::generate(&self.random);
        let otpauth_url = otpauth::otpauth_url(&self.policy.issuer, account, &secret);
        // Drawn before saving, so a QR failure leaves no pending secret the user never saw.
        let qr_png_base64 = qr::qr_png_base64(otpauth_url.expose())?;
        let encrypted = self.cipher.encrypt(user, secret.as_bytes(), &self.random);
        if !self
            .repo
            .save_pending(user, &encrypted, self.clock.now())
            .await?
        {
            return Err(MfaError::AlreadyEnabled);
        }
        Ok(SetupOutput {
            secret_base32: secret.to_base32(),
            otpauth_url,
            qr_png_base64,
        })
    }

    /// Confirms enrolment with the first code from the user's app: MFA is on from now, the code's step is
    /// spent, and a first set of recovery codes is returned (shown once; only hashes are kept).
    ///
    /// # Errors
    /// [`MfaError::NoPendingEnrolment`] without a pending enrolment (also when MFA is already on),
    /// [`MfaError::InvalidCode`], [`MfaError::Crypto`] for an unreadable stored secret, a storage failure.
    pub async fn confirm(
        &self,
        user: UserId,
        code: &str,
        client: &Client,
    ) -> Result<RecoveryCodes, MfaError> {
        let record = self
            .active(user)
            .await?
            .filter(|r| r.state == MfaState::Pending)
            .ok_or(MfaError::NoPendingEnrolment)?;
        let step = self.check_totp(user, &record, code)?;
        let now = self.clock.now();
        let (codes, hashes) = self.recovery_codes_for(user, now);
        // `false` means another request confirmed, or setup replaced the secret, since we read the record.
        let enabled = self.event(EventKind::MfaEnabled, user, client);
        if !self.repo.enable(user, step, &hashes, now, &enabled).await? {
            return Err(MfaError::NoPendingEnrolment);
        }
        Ok(codes)
    }

    /// Checks a TOTP code for a sign-in. A code (or an earlier one) already accepted is refused, on every
    /// instance: the step is recorded atomically.
    ///
    /// # Errors
    /// [`MfaError::NotEnabled`], [`MfaError::InvalidCode`] (wrong, malformed, out of the window, replayed),
    /// [`MfaError::Crypto`], a storage failure.
    pub async fn verify(&self, user: UserId, code: &str) -> Result<(), MfaError> {
        let record = self.enabled(user).await?;
        self.spend_totp(user, &record, code).await
    }

    /// Checks a recovery code for a sign-in and spends it.
    ///
    /// # Errors
    /// [`MfaError::NotEnabled`], [`MfaError::InvalidCode`] (unknown or already used), a storage failure.
    pub async fn verify_recovery(
        &self,
        user: UserId,
        code: &str,
        client: &Client,
    ) -> Result<(), MfaError> {
        self.enabled(user).await?;
        self.spend_recovery_code(user, code, client).await
    }

    /// Turns MFA off after a TOTP code (replay-guarded) or a recovery code (spent); the secret and every
    /// recovery code are erased.
    ///
    /// # Errors
    /// [`MfaError::NotEnabled`], [`MfaError::InvalidCode`], [`MfaError::Crypto`], a storage failure.
    pub async fn disable(&self, user: UserId, code: &str, client: &Client) -> Result<(), MfaError> {
        let record = self.enabled(user).await?;
        // Six digits can only be a TOTP code and a recovery code is never six characters, so the shape
        // alone decides which check applies.
        if totp::is_well_formed(code) {
            self.spend_totp(user, &record, code).await?;
        } else {
            self.spend_recovery_code(user, code, client).await?;
        }
        let disabled = self.event(EventKind::MfaDisabled, user, client);
        self.repo.disable(user, self.clock.now(), &disabled).await?;
        Ok(())
    }

    /// Replaces the whole set of recovery codes; the previous codes stop working.
    ///
    /// # Errors
    /// [`MfaError::NotEnabled`], a storage failure.
    pub async fn regenerate_recovery_codes(
        &self,
        user: UserId,
        client: &Client,
    ) -> Result<RecoveryCodes, MfaError> {
        self.enabled(user).await?;
        let now = self.clock.now();
        let (codes, hashes) = self.recovery_codes_for(user, now);
        let regenerated = self.event(EventKind::RecoveryCodesRegenerated, user, client);
        self.repo
            .replace_recovery_codes(user, &hashes, now, &regenerated)
            .await?;
        Ok(codes)
    }

    /// Whether the user's logins need the second factor.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn is_enabled(&self, user: UserId) -> Result<bool, MfaError> {
        Ok(self
            .active(user)
            .await?
            .is_some_and(|r| r.state == MfaState::Enabled))
    }

    fn event(&self, kind: EventKind, user: UserId, client: &Client) -> SecurityEvent {
        SecurityEvent::new(kind, user, client, &self.clock, &self.random)
    }

    /// The user's factor if it is pending or enabled: a disabled row (which adapters may keep for its
    /// dates) counts as no factor at all.
    async fn active(&self, user: UserId) -> Result<Option<MfaRecord>, MfaError> {
        Ok(self
            .repo
            .find_factor(user)
            .await?
            .filter(|r| r.state != MfaState::Disabled))
    }

    /// The user's factor, which must be enabled.
    async fn enabled(&self, user: UserId) -> Result<MfaRecord, MfaError> {
        self.active(user)
            .await?
            .filter(|r| r.state == MfaState::Enabled)
            .ok_or(MfaError::NotEnabled)
    }

    /// The step a TOTP code matches for this factor, ignoring steps already used.
    fn check_totp(&self, user: UserId, record: &MfaRecord, code: &str) -> Result<u64, MfaError> {
        // Malformed input is refused before decrypting anything.
        if !totp::is_well_formed(code) {
            return Err(MfaError::InvalidCode);
        }
        // Decrypted for the user asked about, not the id in the row: a row that is not theirs fails here.
        let bytes = self.cipher.decrypt(user, &record.secret)?;
        let secret = TotpSecret::from_bytes(&bytes)?;
        totp::verify(&secret, code, self.clock.now(), record.last_used_step)
            .ok_or(MfaError::InvalidCode)
    }

    /// Checks a TOTP code and records its step, so it can never be accepted again.
    async fn spend_totp(
        &self,
        user: UserId,
        record: &MfaRecord,
        code: &str,
    ) -> Result<(), MfaError> {
        let step = self.check_totp(user, record, code)?;
        // The record we read may be stale: the conditional write is what stops two requests (on two
        // instances, say) both accepting the same code.
        if self.repo.use_step(user, step).await? {
            Ok(())
        } else {
            Err(MfaError::InvalidCode)
        }
    }

    /// Spends one recovery code of the user.
    async fn spend_recovery_code(
        &self,
        user: UserId,
        code: &str,
        client: &Client,
    ) -> Result<(), MfaError> {
        let keyed = self
            .cipher
            .recovery_code_hash(user, code)
            .ok_or(MfaError::InvalidCode)?;
        // Codes issued before codes were keyed are stored unkeyed; they keep working until used or replaced.
        let legacy = recovery::hash_recovery_code(code).ok_or(MfaError::InvalidCode)?;
        let used = self.event(EventKind::RecoveryCodeUsed, user, client);
        let now = self.clock.now();
        for hash in [keyed, legacy] {
            if self.repo.use_recovery_code(user, &hash, now, &used).await? {
                return Ok(());
            }
        }
        Err(MfaError::InvalidCode)
    }

    /// A fresh set of recovery codes for `user`, with their keyed hashes.
    fn recovery_codes_for(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> (RecoveryCodes, Vec<RecoveryCodeHash>) {
        recovery::generate_set(&self.random, now, |code| {
            self.cipher.recovery_code_hash(user, code)
        })
    }
}
