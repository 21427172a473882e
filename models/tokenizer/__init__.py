"""The ViT autoencoder tokenizer, its patch discriminator and its training losses."""
from models.tokenizer.autoencoder import MODEL_PRESETS, Tokenizer, TokenizerConfig, TokenizerOutput, with_preset_defaults

__all__ = ["MODEL_PRESETS", "Tokenizer", "TokenizerConfig", "TokenizerOutput", "with_preset_defaults"]
