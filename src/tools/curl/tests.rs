//! curl under every tool-depth fault, through a real `Ctx`.
