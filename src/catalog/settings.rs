//! Per-store settings: the catalog limits.

use serde::{Deserialize, Serialize};

use super::error::CatalogError;

/// Names of the settings, as [`Settings::get`] and [`Settings::set`] take them.
pub const KEYS: [&str; 3] =
    ["limits.priority_account_users", "limits.custom_tags", "limits.users_per_custom_tag"];

/// Limits on tags and members. The defaults are the limits Microsoft Defender for Office 365
/// documents for user tags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Maximum distinct users that carry the system tag: 250.
    pub priority_account_users: usize,
    /// Maximum number of custom tags (the system tag is not counted): 500.
    pub custom_tags: usize,
    /// Maximum distinct effective users of one custom tag: 10,000.
    pub users_per_custom_tag: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { priority_account_users: 250, custom_tags: 500, users_per_custom_tag: 10_000 }
    }
}

/// The settings stored with the catalog.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Limits on tags and members.
    pub limits: Limits,
}

impl Settings {
    /// Returns every setting with its value, in [`KEYS`] order.
    pub fn entries(&self) -> Vec<(&'static str, String)> {
        KEYS.iter().filter_map(|key| self.get(key).ok().map(|value| (*key, value))).collect()
    }

    /// Returns a setting's value as text.
    pub fn get(&self, key: &str) -> Result<String, CatalogError> {
        self.slot(key).map(|value| value.to_string())
    }

    /// Changes a setting. The value must be a whole number of at least 1.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), CatalogError> {
        let parsed = value.trim().replace('_', "").parse::<usize>().ok().filter(|n| *n >= 1);
        let Some(parsed) = parsed else {
            return Err(CatalogError::InvalidSetting {
                key: key.to_string(),
                value: value.to_string(),
            });
        };
        *self.slot_mut(key)? = parsed;
        Ok(())
    }

    fn slot(&self, key: &str) -> Result<usize, CatalogError> {
        let limits = &self.limits;
        match key.trim() {
            "limits.priority_account_users" => Ok(limits.priority_account_users),
            "limits.custom_tags" => Ok(limits.custom_tags),
            "limits.users_per_custom_tag" => Ok(limits.users_per_custom_tag),
            _ => Err(CatalogError::UnknownSetting { key: key.to_string() }),
        }
    }

    fn slot_mut(&mut self, key: &str) -> Result<&mut usize, CatalogError> {
        let limits = &mut self.limits;
        match key.trim() {
            "limits.priority_account_users" => Ok(&mut limits.priority_account_users),
            "limits.custom_tags" => Ok(&mut limits.custom_tags),
            "limits.users_per_custom_tag" => Ok(&mut limits.users_per_custom_tag),
            _ => Err(CatalogError::UnknownSetting { key: key.to_string() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_defender_limits() {
        let settings = Settings::default();
        assert_eq!(settings.get("limits.priority_account_users").as_deref(), Ok("250"));
        assert_eq!(settings.get("limits.custom_tags").as_deref(), Ok("500"));
        assert_eq!(settings.get("limits.users_per_custom_tag").as_deref(), Ok("10000"));
    }

    #[test]
    fn set_rejects_zero_and_text() {
        let mut settings = Settings::default();
        assert!(settings.set("limits.custom_tags", "0").is_err());
        assert!(settings.set("limits.custom_tags", "many").is_err());
        assert!(settings.set("limits.custom_tag", "5").is_err());
        assert_eq!(settings.set("limits.custom_tags", "501"), Ok(()));
        assert_eq!(settings.limits.custom_tags, 501);
    }
}
