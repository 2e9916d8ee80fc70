"""
Colour quantisation of an image with k-means, in float32
========================================================

A photograph uses tens of thousands of colours; *colour quantisation*
redraws it with a palette of a few. k-means on the pixels' (red, green,
blue) values finds a palette that keeps the image close to the original:
each pixel is replaced by the center of its cluster.

The image is scikit-learn's sample photograph ``china.jpg`` (427 x 640
pixels, shipped with scikit-learn). The pixels are kept in float32:
turbocluster computes float32 data in float32 and returns float32 centers,
half the memory of float64. The palette is fitted on 10,000 pixels drawn at
random, then ``predict`` labels all 273,280 pixels.
"""

from timeit import repeat

import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans as SklearnKMeans
from sklearn.datasets import load_sample_image
from sklearn.metrics import pairwise_distances_argmin

from turbocluster import KMeans

china = load_sample_image("china.jpg")
height, width, _ = china.shape
pixels = (china.reshape(-1, 3) / 255).astype(np.float32)
rng = np.random.default_rng(0)
sample = pixels[rng.choice(len(pixels), size=10_000, replace=False)]
n_colors = 16


def median_time(run):
    """Median wall time of ``run()`` in seconds over 3 calls, after a warm-up."""
    run()
    return float(np.median(repeat(run, number=1, repeat=3)))


# %%
# Fit the palette, redraw the image
# ---------------------------------
# For comparison, a palette of as many pixels drawn at random: each pixel takes
# the nearest of them.

kmeans = KMeans(n_clusters=n_colors, random_state=0).fit(sample)
print("center dtype:", kmeans.cluster_centers_.dtype)
labels = kmeans.predict(pixels)
quantised = kmeans.cluster_centers_[labels].reshape(height, width, 3)

random_palette = sample[rng.choice(len(sample), size=n_colors, replace=False)]
random_labels = pairwise_distances_argmin(pixels, random_palette)
randomly_quantised = random_palette[random_labels].reshape(height, width, 3)

for name, image in [("k-means palette", quantised),
                    ("random palette", randomly_quantised)]:
    error = np.mean((image.reshape(-1, 3) - pixels) ** 2, dtype=np.float64)
    print(f"{name}: mean squared error per channel {error:.5f}")

fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), layout="constrained")
for ax, image, title in [(axes[0], china, "original"),
                         (axes[1], quantised, f"k-means, {n_colors} colours"),
                         (axes[2], randomly_quantised,
                          f"random palette, {n_colors} colours")]:
    ax.imshow(image)
    ax.set_title(title)
    ax.set_axis_off()
plt.show()

# %%
# Time against scikit-learn
# -------------------------
# The same float32 pixels and parameters: the palette's fit on the 10,000
# pixels, and the labels of the whole image (medians of 3 runs after a
# warm-up).

ours = median_time(lambda: KMeans(n_clusters=n_colors, random_state=0).fit(sample))
theirs = median_time(lambda: SklearnKMeans(n_clusters=n_colors,
                                           random_state=0).fit(sample))
print(f"KMeans({n_colors}) fit, 10,000 x 3 float32: turbocluster "
      f"{ours * 1e3:.1f} ms, scikit-learn {theirs * 1e3:.1f} ms "
      f"({theirs / ours:.1f}x)")
reference = SklearnKMeans(n_clusters=n_colors, random_state=0).fit(sample)
ours = median_time(lambda: kmeans.predict(pixels))
theirs = median_time(lambda: reference.predict(pixels))
print(f"predict, {len(pixels):,} pixels: turbocluster {ours * 1e3:.1f} ms, "
      f"scikit-learn {theirs * 1e3:.1f} ms ({theirs / ours:.1f}x)")
