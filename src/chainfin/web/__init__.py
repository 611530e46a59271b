"""Server-rendered pages for bank staff and enterprises."""
