//! Scheduling of batched work. For now: finding the bad items of a failed batch; the
//! queues and flush policy of the service build on it.

pub mod bisect;
