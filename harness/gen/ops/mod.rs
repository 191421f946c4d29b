//! The builders of each op family, one module per family as `ir/ops/` has one per family of
//! ops: adding an op touches its `ir/ops` row, its family's builder here, and its row in
//! `table.rs` (whose order is the draw order).

mod channel;
mod control;
mod data;
mod elementwise;
mod expand;
mod factory;
mod join;
mod matmul;
mod pad;
mod reduction;
mod shape;
