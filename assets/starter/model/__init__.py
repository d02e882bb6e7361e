"""The starter model: a scaled logistic regression on the preprocessed breast-cancer features."""
