//! corelay-tokio
