"""Read models: what the operator's questions (`why`, `status`) are answered from, apart from how they are printed."""
