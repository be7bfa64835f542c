//! Tests of the HTTP codec, one file per concern.

mod body;
mod head;
mod query;
mod response;
