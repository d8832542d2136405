//! aria2c under every tool-depth fault, through a real `Ctx`.
