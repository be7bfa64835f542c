//! The driver's behaviour on glommio (see `corelay_rt::conformance`).

corelay_rt::conformance_tests!(corelay_glommio::Glommio);
