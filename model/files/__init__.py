"""What comes from outside, and what goes back out: the Fashion-MNIST files, uploaded images
and their preprocessing, augmentations, predictions, checkpoints and the checks of their JSON."""
