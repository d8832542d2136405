//! Tool-depth faults acting on hf, through a real Ctx.
