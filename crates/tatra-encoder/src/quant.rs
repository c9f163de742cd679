//! Q4_0 block quantisation (ggml layout): blocks of 32 weights along a row, each
//! `{f16 scale d; u8 qs[16]}` (18 bytes); weight j is `((qs[j] & 15) - 8) * d` and
//! weight j+16 is `((qs[j] >> 4) - 8) * d`.

pub const BLOCK: usize = 32;
pub const BLOCK_BYTES: usize = 18;

/// Dequantises one block into `out` (32 values).
#[inline]
pub fn dequant_block(block: &[u8], out: &mut [f32]) {
    let d = half::f16::from_le_bytes([block[0], block[1]]).to_f32();
    for j in 0..16 {
        let q = block[2 + j];
        out[j] = ((q & 15) as i32 - 8) as f32 * d;
        out[j + 16] = ((q >> 4) as i32 - 8) as f32 * d;
    }
}

/// Dequantises a whole row-major `[rows, cols]` matrix (cols a multiple of 32).
pub fn dequant_matrix(data: &[u8], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0f32; rows * cols];
    let blocks_per_row = cols / BLOCK;
    for (bi, block) in data.chunks_exact(BLOCK_BYTES).enumerate().take(rows * blocks_per_row) {
        dequant_block(block, &mut out[bi * BLOCK..(bi + 1) * BLOCK]);
    }
    out
}

/// Bytes of a `[rows, cols]` Q4_0 matrix.
pub fn q4_bytes(rows: usize, cols: usize) -> usize {
    rows * cols / BLOCK * BLOCK_BYTES
}

#[cfg(test)]
mod tests {
    #[test]
    fn block_layout() {
        let mut b = vec![0u8; 18];
        b[..2].copy_from_slice(&half::f16::from_f32(0.5).to_le_bytes());
        b[2] = 0x9F; // low nibble 15 -> 7*0.5, high nibble 9 -> 1*0.5
        let mut out = [0f32; 32];
        super::dequant_block(&b, &mut out);
        assert_eq!(out[0], 3.5);
        assert_eq!(out[16], 0.5);
        assert_eq!(out[1], -4.0);
    }
}
