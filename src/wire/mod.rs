//! The wire format, everything that turns bytes from outside into typed parts and back: the
//! ids naming keys and sets ([`ids`]), one bounds-checked reader ([`reader`]), the readable
//! envelope header of every object ([`envelope`]) and the bundle container exchanged between
//! the parties ([`bundle`]). Nothing here does FHE work.

pub mod bundle;
pub mod envelope;
pub mod ids;
pub mod reader;
