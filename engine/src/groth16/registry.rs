//! Prepared keys by key id, bounded.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use super::{KeyId, PreparedKey};

/// Prepared keys by id. When full, the key registered longest ago is forgotten (its
/// callers then get "unknown key id" and register it again).
pub struct KeyRegistry {
    inner: Mutex<Inner>,
    capacity: usize,
}

#[derive(Default)]
struct Inner {
    keys: HashMap<KeyId, Arc<PreparedKey>>,
    order: VecDeque<KeyId>,
}

impl KeyRegistry {
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::default(),
            capacity: capacity.max(1),
        }
    }

    /// Adds `key` (or finds it, if a key with its id is already here).
    pub fn insert(&self, key: PreparedKey) -> Arc<PreparedKey> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = inner.keys.get(key.id()) {
            return existing.clone();
        }
        let id = *key.id();
        let key = Arc::new(key);
        inner.keys.insert(id, key.clone());
        inner.order.push_back(id);
        while inner.order.len() > self.capacity {
            if let Some(old) = inner.order.pop_front() {
                inner.keys.remove(&old);
            }
        }
        key
    }

    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, id: &KeyId) -> Option<Arc<PreparedKey>> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.keys.get(id).cloned()
    }
}
