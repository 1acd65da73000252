"""Texts as words and as HTML, independent of any model: word segmentation (ICU) and the
passage markup the views and the shared comparison page show."""
