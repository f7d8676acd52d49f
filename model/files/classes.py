"""The ten Fashion-MNIST classes, in label order."""

CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
# The names the lesson (d2l, Chinese edition) uses.
CLASSES_ZH = ("T恤", "裤子", "套衫", "连衣裙", "外套", "凉鞋", "衬衫", "运动鞋", "包", "短靴")


def a_or_an(name: str) -> str:
    """"a Coat", "an Ankle boot": the name with its indefinite article, for captions."""
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"
