//! The token signing keys.

use authd_kernel::StoreError;
use authd_session::StoredSigningKey;
use authd_session::ports::SigningKeyRepository;

use super::MemoryStore;

impl SigningKeyRepository for MemoryStore {
    async fn load_or_insert(
        &self,
        candidate: &StoredSigningKey,
    ) -> Result<Vec<StoredSigningKey>, StoreError> {
        let mut tables = self.tables();
        if tables.signing_keys.is_empty() {
            tables.signing_keys.push(candidate.clone());
        }
        Ok(tables.signing_keys.clone())
    }
}
