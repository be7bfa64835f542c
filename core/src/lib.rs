//! corelay-core
#![forbid(unsafe_code)]
pub mod wire;
