//! The on-disk store.
