//! Prepared keys by key id: the pinned ones for good, the rest bounded.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use super::{KeyId, PreparedKey};

/// Prepared keys by id. When full, the key used longest ago is forgotten (its callers
/// then get "unknown key id" and register it again); registering or looking up a key
/// counts as using it. Pinned keys are kept apart and never forgotten.
pub struct KeyRegistry {
    inner: Mutex<Inner>,
    capacity: usize,
}

#[derive(Default)]
struct Inner {
    pinned: HashMap<KeyId, Arc<PreparedKey>>,
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

    /// Adds `key` for good, outside the bound.
    pub fn pin(&self, key: PreparedKey) -> Arc<PreparedKey> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let id = *key.id();
        if let Some(at) = inner.order.iter().position(|k| *k == id) {
            inner.order.remove(at);
            inner.keys.remove(&id);
        }
        inner
            .pinned
            .entry(id)
            .or_insert_with(|| Arc::new(key))
            .clone()
    }

    /// Adds `key` (or finds it, if a key with its id is already here).
    pub fn insert(&self, key: PreparedKey) -> Arc<PreparedKey> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pinned) = inner.pinned.get(key.id()) {
            return pinned.clone();
        }
        if let Some(existing) = inner.keys.get(key.id()).cloned() {
            inner.touch(key.id());
            return existing;
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

    /// Keys held, pinned ones included.
    pub fn len(&self) -> usize {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.pinned.len() + inner.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, id: &KeyId) -> Option<Arc<PreparedKey>> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pinned) = inner.pinned.get(id) {
            return Some(pinned.clone());
        }
        let key = inner.keys.get(id).cloned()?;
        inner.touch(id);
        Some(key)
    }
}

impl Inner {
    /// Moves `id` to the most recently used end of the order.
    fn touch(&mut self, id: &KeyId) {
        if let Some(at) = self.order.iter().position(|k| k == id) {
            self.order.remove(at);
            self.order.push_back(*id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groth16::{KeyFormat, PreparedKey};

    /// Distinct valid keys: the snarkjs fixture key with its IC points permuted.
    fn keys() -> Vec<PreparedKey> {
        let key = KeyFormat::SnarkjsJson
            .parse_key(crate::selftest::inputs::GROTH16_KEY)
            .unwrap();
        (0..3)
            .map(|i| {
                let mut k = key.clone();
                k.ic.rotate_left(i);
                PreparedKey::new(k)
            })
            .collect()
    }

    #[test]
    fn the_least_recently_used_key_is_forgotten_first() {
        let [a, b, c]: [PreparedKey; 3] = keys().try_into().unwrap();
        let (ida, idb, idc) = (*a.id(), *b.id(), *c.id());
        let registry = KeyRegistry::new(2);
        registry.insert(a);
        registry.insert(b);
        assert!(registry.get(&ida).is_some()); // a is now the most recently used
        registry.insert(c);
        assert!(registry.get(&ida).is_some());
        assert!(registry.get(&idb).is_none(), "b was used longest ago");
        assert!(registry.get(&idc).is_some());
        assert_eq!(registry.len(), 2);
    }

    #[test]
    fn pinned_keys_are_never_forgotten() {
        let [a, b, c]: [PreparedKey; 3] = keys().try_into().unwrap();
        let (ida, idb, idc) = (*a.id(), *b.id(), *c.id());
        let registry = KeyRegistry::new(1);
        registry.insert(a.clone());
        registry.pin(a); // was evictable, now pinned
        registry.insert(b);
        registry.insert(c);
        assert!(registry.get(&ida).is_some(), "the pinned key stays");
        assert!(registry.get(&idb).is_none());
        assert!(registry.get(&idc).is_some());
        assert_eq!(registry.len(), 2);
    }
}
