//! The vault's errors: the crate's own (wrong key, malformed file, I/O,
//! closed vault) plus two that only a vault has, each with a stable code.

use core::fmt;

use crate::error::{code_enum, Error};

/// Calls `$m! { $($args)* { Variant = "ERR_VAULT_…", … } }` with the codes only
/// a [`VaultError`] has (the others are the crate's, `seal_error_codes!`): the
/// one place they are written, for [`VaultErrorCode`] and a binding's mirror of
/// it. Never change a published one.
#[macro_export]
macro_rules! seal_vault_error_codes {
    ($m:ident $(, $($args:tt)*)?) => {
        $m! { $($($args)*)? {
            Integrity = "ERR_VAULT_INTEGRITY",
            Poisoned = "ERR_VAULT_POISONED",
        } }
    };
}

seal_vault_error_codes!(code_enum,
    /// The kinds of [`VaultError`] that are not the crate's [`Error`].
    VaultErrorCode);

#[derive(Debug, Clone, PartialEq)]
pub enum VaultError {
    /// An error shared with the rest of the crate (`ERR_DECRYPTION`,
    /// `ERR_FORMAT`, `ERR_VAULT_IO`, `ERR_INVALID_STATE`, ...).
    Seal(Error),
    /// A record is not the one the manifest recorded: a pack was changed,
    /// truncated, removed, or an older record was put back.
    Integrity(&'static str),
    /// A commit failed after its new manifest was in place, so which of the
    /// old or new state a crash would keep is unknown. This object is closed;
    /// opening the directory again reads (and makes durable) the new state.
    Poisoned,
}

pub type Result<T> = core::result::Result<T, VaultError>;

impl VaultError {
    /// Stable code, following the Node convention: the crate error's, or the vault's own.
    pub fn code(&self) -> &'static str {
        match self {
            VaultError::Seal(e) => e.code(),
            VaultError::Integrity(_) => VaultErrorCode::Integrity.as_str(),
            VaultError::Poisoned => VaultErrorCode::Poisoned.as_str(),
        }
    }
}

impl fmt::Display for VaultError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VaultError::Seal(e) => e.fmt(f),
            VaultError::Integrity(why) => write!(f, "vault integrity: {why}"),
            VaultError::Poisoned => f.write_str(
                "the vault's new manifest is in place but could not be made durable; \
                 this vault object is closed: open the directory again \
                 (after a rekey, with the new key)",
            ),
        }
    }
}

impl std::error::Error for VaultError {}

impl From<Error> for VaultError {
    fn from(e: Error) -> Self {
        VaultError::Seal(e)
    }
}

impl From<std::io::Error> for VaultError {
    fn from(e: std::io::Error) -> Self {
        VaultError::Seal(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::VaultErrorCode;
    use crate::ErrorCode;

    /// A vault's own codes are not the crate's: `code()` could not say which one it is.
    #[test]
    fn vault_codes_are_not_the_crates() {
        let codes = VaultErrorCode::ALL.map(VaultErrorCode::as_str);
        assert!(ErrorCode::ALL.iter().all(|c| !codes.contains(&c.as_str())));
    }
}
