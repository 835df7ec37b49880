"""Models shared by training and serving: text, features, heads, expertise, the bundle."""
