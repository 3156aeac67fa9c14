"""Model families: loaders for checkpoint layouts other than our own model folders."""
