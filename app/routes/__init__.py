"""HTTP routes, one router per audience."""
