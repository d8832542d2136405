//! The node classes this ComfyUI knows (the core loaders, samplers,
//! encoders and image nodes), as data: their inputs with ComfyUI's type
//! specs, outputs, category and whether they are output nodes. Combo
//! inputs that name model files list the sandbox's folders
//! ([`super::folders`]), so `object_info` and validation see what is on
//! disk now.

use serde_json::{json, Value};

/// One input of a node.
#[derive(Clone, Copy, Debug)]
pub(super) enum Input {
    /// A file of a model folder (`loras`, `checkpoints`, ...).
    Model(&'static str),
    /// An image in `$UI_HOME/input`.
    Uploaded,
    /// A fixed choice.
    Combo(&'static [&'static str]),
    /// An integer widget.
    Int { default: i64, min: i64, max: u64 },
    /// A float widget.
    Float {
        default: f64,
        min: f64,
        max: f64,
        step: f64,
    },
    /// A text widget.
    Text {
        multiline: bool,
        default: &'static str,
    },
    /// A link from another node's output of this type (`MODEL`, `LATENT`).
    Link(&'static str),
}

/// What running the node does, for the executor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Work {
    /// Loads or computes at once.
    Quick,
    /// Steps through its `steps` input (`progress` messages).
    Sampler,
    /// Writes PNGs to the output folder.
    Save,
    /// Writes PNGs to the temp folder.
    Preview,
}

/// A node class.
#[derive(Debug)]
pub(super) struct Node {
    pub name: &'static str,
    pub display: &'static str,
    pub category: &'static str,
    pub description: &'static str,
    pub required: &'static [(&'static str, Input)],
    pub outputs: &'static [&'static str],
    pub output_names: &'static [&'static str],
    pub output_node: bool,
    pub work: Work,
}

const SAMPLERS: &[&str] = &[
    "euler",
    "euler_cfg_pp",
    "euler_ancestral",
    "euler_ancestral_cfg_pp",
    "heun",
    "heunpp2",
    "dpm_2",
    "dpm_2_ancestral",
    "lms",
    "dpm_fast",
    "dpm_adaptive",
    "dpmpp_2s_ancestral",
    "dpmpp_sde",
    "dpmpp_sde_gpu",
    "dpmpp_2m",
    "dpmpp_2m_sde",
    "dpmpp_2m_sde_gpu",
    "dpmpp_3m_sde",
    "dpmpp_3m_sde_gpu",
    "ddpm",
    "lcm",
    "ipndm",
    "ipndm_v",
    "deis",
    "ddim",
    "uni_pc",
    "uni_pc_bh2",
];
const SCHEDULERS: &[&str] = &[
    "normal",
    "karras",
    "exponential",
    "sgm_uniform",
    "simple",
    "ddim_uniform",
    "beta",
    "linear_quadratic",
    "kl_optimal",
];
const STRENGTH: Input = Input::Float {
    default: 1.0,
    min: -100.0,
    max: 100.0,
    step: 0.01,
};
const SIZE: Input = Input::Int {
    default: 512,
    min: 16,
    max: 16384,
};

/// Every node class, by name.
pub(super) const NODES: &[Node] = &[
    Node { name: "CheckpointLoaderSimple", display: "Load Checkpoint", category: "loaders", description: "Loads a diffusion model checkpoint, diffusion models are used to denoise latents.", required: &[("ckpt_name", Input::Model("checkpoints"))], outputs: &["MODEL", "CLIP", "VAE"], output_names: &["MODEL", "CLIP", "VAE"], output_node: false, work: Work::Quick },
    Node { name: "LoraLoader", display: "Load LoRA", category: "loaders", description: "LoRAs are used to modify diffusion and CLIP models, altering the way in which latents are denoised such as applying styles. Multiple LoRA nodes can be linked together.", required: &[("model", Input::Link("MODEL")), ("clip", Input::Link("CLIP")), ("lora_name", Input::Model("loras")), ("strength_model", STRENGTH), ("strength_clip", STRENGTH)], outputs: &["MODEL", "CLIP"], output_names: &["MODEL", "CLIP"], output_node: false, work: Work::Quick },
    Node { name: "LoraLoaderModelOnly", display: "LoraLoaderModelOnly", category: "loaders", description: "", required: &[("model", Input::Link("MODEL")), ("lora_name", Input::Model("loras")), ("strength_model", STRENGTH)], outputs: &["MODEL"], output_names: &["MODEL"], output_node: false, work: Work::Quick },
    Node { name: "VAELoader", display: "Load VAE", category: "loaders", description: "", required: &[("vae_name", Input::Model("vae"))], outputs: &["VAE"], output_names: &["VAE"], output_node: false, work: Work::Quick },
    Node { name: "UNETLoader", display: "Load Diffusion Model", category: "advanced/loaders", description: "", required: &[("unet_name", Input::Model("diffusion_models")), ("weight_dtype", Input::Combo(&["default", "fp8_e4m3fn", "fp8_e4m3fn_fast", "fp8_e5m2"]))], outputs: &["MODEL"], output_names: &["MODEL"], output_node: false, work: Work::Quick },
    Node { name: "CLIPLoader", display: "Load CLIP", category: "advanced/loaders", description: "", required: &[("clip_name", Input::Model("text_encoders")), ("type", Input::Combo(&["stable_diffusion", "stable_cascade", "sd3", "stable_audio", "mochi", "ltxv", "pixart", "cosmos", "lumina2", "wan", "hidream", "chroma", "ace", "omnigen2", "qwen_image"]))], outputs: &["CLIP"], output_names: &["CLIP"], output_node: false, work: Work::Quick },
    Node { name: "DualCLIPLoader", display: "DualCLIPLoader", category: "advanced/loaders", description: "", required: &[("clip_name1", Input::Model("text_encoders")), ("clip_name2", Input::Model("text_encoders")), ("type", Input::Combo(&["sdxl", "sd3", "flux", "hunyuan_video", "hidream"]))], outputs: &["CLIP"], output_names: &["CLIP"], output_node: false, work: Work::Quick },
    Node { name: "CLIPVisionLoader", display: "Load CLIP Vision", category: "loaders", description: "", required: &[("clip_name", Input::Model("clip_vision"))], outputs: &["CLIP_VISION"], output_names: &["CLIP_VISION"], output_node: false, work: Work::Quick },
    Node { name: "ControlNetLoader", display: "Load ControlNet Model", category: "loaders", description: "", required: &[("control_net_name", Input::Model("controlnet"))], outputs: &["CONTROL_NET"], output_names: &["CONTROL_NET"], output_node: false, work: Work::Quick },
    Node { name: "UpscaleModelLoader", display: "Load Upscale Model", category: "loaders", description: "", required: &[("model_name", Input::Model("upscale_models"))], outputs: &["UPSCALE_MODEL"], output_names: &["UPSCALE_MODEL"], output_node: false, work: Work::Quick },
    Node { name: "CLIPTextEncode", display: "CLIP Text Encode (Prompt)", category: "conditioning", description: "Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model towards generating specific images.", required: &[("text", Input::Text { multiline: true, default: "" }), ("clip", Input::Link("CLIP"))], outputs: &["CONDITIONING"], output_names: &["CONDITIONING"], output_node: false, work: Work::Quick },
    Node { name: "EmptyLatentImage", display: "Empty Latent Image", category: "latent", description: "Create a new batch of empty latent images to be denoised via sampling.", required: &[("width", SIZE), ("height", SIZE), ("batch_size", Input::Int { default: 1, min: 1, max: 4096 })], outputs: &["LATENT"], output_names: &["LATENT"], output_node: false, work: Work::Quick },
    Node { name: "KSampler", display: "KSampler", category: "sampling", description: "Uses the provided model, positive and negative conditioning to denoise the latent image.", required: &[("model", Input::Link("MODEL")), ("seed", Input::Int { default: 0, min: 0, max: u64::MAX }), ("steps", Input::Int { default: 20, min: 1, max: 10000 }), ("cfg", Input::Float { default: 8.0, min: 0.0, max: 100.0, step: 0.1 }), ("sampler_name", Input::Combo(SAMPLERS)), ("scheduler", Input::Combo(SCHEDULERS)), ("positive", Input::Link("CONDITIONING")), ("negative", Input::Link("CONDITIONING")), ("latent_image", Input::Link("LATENT")), ("denoise", Input::Float { default: 1.0, min: 0.0, max: 1.0, step: 0.01 })], outputs: &["LATENT"], output_names: &["LATENT"], output_node: false, work: Work::Sampler },
    Node { name: "VAEDecode", display: "VAE Decode", category: "latent", description: "Decodes latent images back into pixel space images.", required: &[("samples", Input::Link("LATENT")), ("vae", Input::Link("VAE"))], outputs: &["IMAGE"], output_names: &["IMAGE"], output_node: false, work: Work::Quick },
    Node { name: "VAEEncode", display: "VAE Encode", category: "latent", description: "", required: &[("pixels", Input::Link("IMAGE")), ("vae", Input::Link("VAE"))], outputs: &["LATENT"], output_names: &["LATENT"], output_node: false, work: Work::Quick },
    Node { name: "ImageUpscaleWithModel", display: "Upscale Image (using Model)", category: "image/upscaling", description: "", required: &[("upscale_model", Input::Link("UPSCALE_MODEL")), ("image", Input::Link("IMAGE"))], outputs: &["IMAGE"], output_names: &["IMAGE"], output_node: false, work: Work::Quick },
    Node { name: "LoadImage", display: "Load Image", category: "image", description: "", required: &[("image", Input::Uploaded)], outputs: &["IMAGE", "MASK"], output_names: &["IMAGE", "MASK"], output_node: false, work: Work::Quick },
    Node { name: "SaveImage", display: "Save Image", category: "image", description: "Saves the input images to your ComfyUI output directory.", required: &[("images", Input::Link("IMAGE")), ("filename_prefix", Input::Text { multiline: false, default: "ComfyUI" })], outputs: &[], output_names: &[], output_node: true, work: Work::Save },
    Node { name: "PreviewImage", display: "Preview Image", category: "image", description: "Saves the input images to your ComfyUI output directory.", required: &[("images", Input::Link("IMAGE"))], outputs: &[], output_names: &[], output_node: true, work: Work::Preview },
];

/// The node class called `name`.
pub(super) fn find(name: &str) -> Option<&'static Node> {
    NODES.iter().find(|n| n.name == name)
}

/// An input's spec as `object_info` shows it (`[["a.safetensors"]]`,
/// `["INT", {"default": 20, ...}]`), with `files` for the file combos.
pub(super) fn input_spec(input: Input, files: &dyn Fn(Input) -> Vec<String>) -> Value {
    match input {
        Input::Model(_) => json!([files(input)]),
        Input::Uploaded => json!([files(input), {"image_upload": true}]),
        Input::Combo(options) => json!([options]),
        Input::Int { default, min, max } => {
            json!(["INT", {"default": default, "min": min, "max": max}])
        }
        Input::Float {
            default,
            min,
            max,
            step,
        } => {
            json!(["FLOAT", {"default": default, "min": min, "max": max, "step": step}])
        }
        Input::Text { multiline, default } => {
            json!(["STRING", {"multiline": multiline, "default": default}])
        }
        Input::Link(kind) => json!([kind]),
    }
}

/// `object_info`'s entry for `node`.
pub(super) fn info(node: &Node, files: &dyn Fn(Input) -> Vec<String>) -> Value {
    let required: serde_json::Map<String, Value> = node
        .required
        .iter()
        .map(|(name, input)| (name.to_string(), input_spec(*input, files)))
        .collect();
    let mut input = json!({ "required": required });
    if matches!(node.work, Work::Save | Work::Preview) {
        input["hidden"] = json!({"prompt": "PROMPT", "extra_pnginfo": "EXTRA_PNGINFO"});
    }
    json!({
        "input": input,
        "input_order": {"required": node.required.iter().map(|(n, _)| *n).collect::<Vec<_>>()},
        "output": node.outputs,
        "output_is_list": node.outputs.iter().map(|_| false).collect::<Vec<_>>(),
        "output_name": node.output_names,
        "name": node.name,
        "display_name": node.display,
        "description": node.description,
        "python_module": "nodes",
        "category": node.category,
        "output_node": node.output_node,
    })
}
