"""Hook implementations (placeholder)."""
