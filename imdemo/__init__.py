"""imdemo: a small, real instant-messaging system that shows how IM works."""
