"""The chapter's mathematics: softmax regression from scratch and concise, the train loop
(one model, or K fused), the settings of a training, and what a model gets right and wrong."""
