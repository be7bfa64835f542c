//! The driver's behaviour on monoio (see `corelay_rt::conformance`).

corelay_rt::conformance_tests!(corelay_monoio::Monoio);
