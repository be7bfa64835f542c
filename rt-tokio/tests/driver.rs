//! The driver's behaviour on tokio (see `corelay_rt::conformance`).

corelay_rt::conformance_tests!(corelay_tokio::Tokio);
