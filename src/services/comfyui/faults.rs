//! Faults at service depth, asked at the point where each acts: a request
//! may hang (`comfyui_hang`); a node may raise (`comfyui_error`), step
//! slower (`comfyui_slow`) or never finish (`comfyui_hang`). The rule's
//! `command` regex sees `METHOD /path` for a request and the class name
//! for a node. Each fault that fires gets a journal entry of kind `service`.

use crate::faults::{Depth, Fault, Invocation};
use crate::journal::{now_rfc3339, Ending, EntryKind, JournalEntry};

use super::ComfyUi;

/// Where a fault is asked for.
#[derive(Clone, Copy)]
pub(super) enum Point {
    /// An HTTP request (`GET /queue`).
    Request,
    /// A node run (`KSampler`).
    Node,
}

/// The faults that fire on `what` at `point`, journaled.
pub(super) fn decide(c: &ComfyUi, point: Point, what: &str) -> Vec<Fault> {
    let Some(instance) = c.instance.upgrade() else {
        return Vec::new();
    };
    let fired = instance.faults.decide_where(
        Depth::Service,
        &Invocation {
            tool: Some("comfyui"),
            command: what,
            args: &[],
            instance: &instance.config.id,
            user: "",
        },
        |f| match point {
            Point::Request => *f == Fault::ComfyuiHang,
            Point::Node => matches!(
                f,
                Fault::ComfyuiError { .. } | Fault::ComfyuiSlow { .. } | Fault::ComfyuiHang
            ),
        },
    );
    if !fired.is_empty() {
        instance.journal.record(JournalEntry {
            seq: 0,
            time: now_rfc3339(),
            instance: instance.config.id.clone(),
            user: String::new(),
            key_fingerprint: None,
            client: None,
            kind: EntryKind::Service,
            command: format!("comfyui {what}"),
            faults: fired.iter().map(|f| f.id.clone()).collect(),
            exit_code: None,
            stdout_bytes: 0,
            stderr_bytes: 0,
            received_bytes: None,
            duration_ms: 0,
            ended: Ending::Exit,
        });
    }
    fired.into_iter().map(|f| f.fault).collect()
}

/// The traceback ComfyUI reports for an exception in `class`'s function.
pub(super) fn traceback(class: &str, message: &str) -> Vec<String> {
    let function = match class {
        "KSampler" => "sample",
        "VAEDecode" => "decode",
        "CheckpointLoaderSimple" => "load_checkpoint",
        "SaveImage" => "save_images",
        _ => "execute",
    };
    vec![
        "  File \"/workspace/ComfyUI/execution.py\", line 349, in execute\n    output_data, output_ui, has_subgraph = get_output_data(obj, input_data_all, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb)\n".into(),
        "  File \"/workspace/ComfyUI/execution.py\", line 224, in get_output_data\n    return_values = _map_node_over_list(obj, input_data_all, obj.FUNCTION, allow_interrupt=True, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb)\n".into(),
        format!("  File \"/workspace/ComfyUI/nodes.py\", line 1519, in {function}\n    return common_ksampler(model, seed, steps, cfg, sampler_name, scheduler, positive, negative, latent_image, denoise=denoise)\n"),
        format!("  File \"/venv/main/lib/python3.11/site-packages/torch/nn/modules/module.py\", line 1532, in _wrapped_call_impl\n    raise {}\n", exception_type(message)),
    ]
}

/// The exception class ComfyUI names for `message`.
pub(super) fn exception_type(message: &str) -> &'static str {
    if message.contains("out of memory") {
        "torch.OutOfMemoryError"
    } else {
        "RuntimeError"
    }
}

/// The default `comfyui_error` message.
pub(super) const OOM: &str = "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 23.99 GiB of which 1.12 GiB is free. Of the allocated memory 20.51 GiB is allocated by PyTorch, and 1.88 GiB is reserved by PyTorch but unallocated.";
