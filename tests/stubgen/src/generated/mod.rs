pub mod testing;
