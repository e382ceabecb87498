"""FMix (Harris et al., "FMix: Enhancing Mixed Sample Data Augmentation", 2020; keras-cv FourierMix).

A mask from low-frequency Fourier noise: a complex Gaussian spectrum scaled by
1 / max(f, 1/max(h, w)) ** decay_power, inverse real FFT; the top round((1-lam)*H*W) values of
the noise become 1 (ties in row-major order), and those pixels come from the partner (resized to
the row's image). lam ~ Beta(alpha, alpha) sets the count; the label weight is 1 - the mask's mean, exactly.

The spectrum is drawn on a grid of at most GRID cells along the image's longer side (same
aspect), and the noise is upsampled to the image bilinearly: an FFT of the whole image would
cost more than decoding it, and with the default decay_power 3 a frequency of GRID/2 cycles per
side has 1/4096 the amplitude of 1 cycle. The spectrum's size depends on the decoded image, so
it comes from a generator seeded by a number drawn up front for the row.
"""

from dataclasses import dataclass

from ..options import above, beta, option
from .base import Operation, Painted, match, matched, own

GRID = 32


def fourier_noise(h: int, w: int, decay_power: float, seed: int):
    """Low-frequency noise, an h x w float32 array, from a seeded complex Gaussian spectrum."""
    import numpy as np

    from ..pixels.codec import resize_float

    s = min(1.0, GRID / max(h, w))
    gh, gw = max(1, round(h * s)), max(1, round(w * s))
    fy = np.fft.fftfreq(gh)[:, None]
    fx = np.fft.rfftfreq(gw)[None, :]
    freq = np.sqrt(fy * fy + fx * fx)
    lowest = 1.0 / max(gh, gw)
    scale = (np.maximum(freq, lowest) / lowest) ** -decay_power  # 1/f^P over lowest^P: in (0, 1], never overflows
    rng = np.random.default_rng(seed)
    spectrum = (rng.standard_normal(freq.shape) + 1j * rng.standard_normal(freq.shape)) * scale
    grid = np.fft.irfft2(spectrum, s=(gh, gw)).astype(np.float32)
    return resize_float(grid, (w, h))


def top_mask(noise, count: int):
    """A uint8 mask, 1 on the `count` largest values of noise (equal values taken in row-major order)."""
    import numpy as np

    flat = noise.reshape(-1)
    if count <= 0 or count >= flat.size:
        return np.full(noise.shape, 1 if count > 0 else 0, np.uint8)
    t = np.partition(flat, flat.size - count)[flat.size - count]  # the count-th largest value
    mask = (flat > t).view(np.uint8)
    ties = count - int(np.count_nonzero(mask))
    mask[np.flatnonzero(flat == t)[:ties]] = 1
    return mask.reshape(noise.shape)


@dataclass(frozen=True)
class FMix(Operation):
    name = "fmix"
    summary = "Paste a partner through a low-frequency Fourier mask; label weights by mask area."
    masks = True

    alpha: float = option(1.0, "Beta(alpha, alpha) parameter of lam, the base image's share; > 0.", check=beta())
    decay_power: float = option(3.0, "Decay of the spectrum, 1/f^P: larger P, smoother masks; > 0.", check=above(0))

    def draw(self, n: int, streams) -> dict:
        return {"lam": streams(0).beta(self.alpha, self.alpha, n), "noise_seed": streams(1).integers(0, 2**63, n)}

    def paint(self, images: list, row: dict, out, interpolation: str = "auto") -> Painted:
        from ..pixels.checked import select

        a, b = images
        h, w = a.shape[:2]
        count = round((1.0 - float(row["lam"])) * h * w)
        mask = top_mask(fourier_noise(h, w, self.decay_power, int(row["noise_seed"])), count)
        if out is not a:
            out[...] = a
        select(mask, match(b, a.shape, interpolation), out)
        lam = 1.0 - count / (h * w)
        mask *= 255
        return Painted(self.name, (lam, 1.0 - lam), (), mask, (own(a.shape, mask=0), matched(b.shape, a.shape, mask=255)))
