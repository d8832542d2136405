//! The PNGs a run writes: real, decodable images (a gradient drawn from
//! the seed, so the same prompt gives the same bytes) with the prompt in a
//! `tEXt` chunk, as ComfyUI's `SaveImage` embeds it.

/// Encodes a `width` x `height` RGB image for `seed`, with `prompt` as
/// the `prompt` text chunk.
pub(super) fn png(width: u32, height: u32, seed: u64, prompt: &str) -> Vec<u8> {
    let (w, h) = (width.clamp(8, 2048), height.clamp(8, 2048));
    let tint = [
        (seed & 0xff) as u8,
        ((seed >> 8) & 0xff) as u8,
        ((seed >> 16) & 0xff) as u8,
    ];
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            pixels.push(((x * 255 / w) as u8) ^ tint[0]);
            pixels.push(((y * 255 / h) as u8) ^ tint[1]);
            pixels.push((((x + y) * 127 / (w + h)) as u8) ^ tint[2]);
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        // Writing to a Vec cannot fail but for a bad text chunk (non
        // Latin-1 keyword): the prompt then goes without it.
        let _ = enc.add_text_chunk("prompt".into(), prompt.into());
        if let Ok(mut writer) = enc.write_header() {
            let _ = writer.write_image_data(&pixels);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_png_decodes_to_its_size_and_carries_the_prompt() {
        let bytes = super::png(64, 32, 7, "{\"3\": {}}");
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), (64, 32));
        assert!(info
            .uncompressed_latin1_text
            .iter()
            .any(|t| t.keyword == "prompt" && t.text == "{\"3\": {}}"));
        assert_eq!(
            bytes,
            super::png(64, 32, 7, "{\"3\": {}}"),
            "same seed, same bytes"
        );
    }
}
