// Classes with virtual functions: make_shape() builds the objects (its code
// stores each class's vtable address), respond() asks them through the
// vtable and tells them apart with dynamic_cast (through their typeinfo).
// The classes are local to this file (an anonymous namespace), so their
// typeinfo is compared by address: a copy of a vtable or of a typeinfo in
// the patch would make the objects it builds strangers to respond().
#include <cstdio>
#include <cstring>
#include <new>

namespace {
struct Shape {
	virtual ~Shape() {}
	virtual long area() const = 0;
};

struct Square : Shape {
	long side;
	explicit Square(long s) : side(s) {}
	long area() const override;
};

struct Rect : Shape {
	long w, h;
	Rect(long a, long b) : w(a), h(b) {}
	long area() const override;
};

long Square::area() const
{
	return side * side;
}

long Rect::area() const
{
	return w * h;
}

union Storage {
	Square sq;
	Rect rect;
	Storage() {}
	~Storage() {}
};

/* Placement new: no allocation, so nothing here can throw. */
__attribute__((noinline)) Shape *make_shape(Storage *at, const char *kind, long a, long b)
{
	if (!std::strcmp(kind, "sq"))
		return new (&at->sq) Square(a);
	if (!std::strcmp(kind, "rect"))
		return new (&at->rect) Rect(a, b);
	return nullptr;
}
}

extern "C" const char *respond(const char *line)
{
	static char out[64];
	char kind[16];
	long a = 0, b = 0;

	if (std::sscanf(line, "%15s %ld %ld", kind, &a, &b) < 2)
		return "?";
	Storage at;
	Shape *s = make_shape(&at, kind, a, b);
	if (!s)
		return "none";
	std::snprintf(out, sizeof(out), "%s %ld", dynamic_cast<Square *>(s) ? "square" : "other",
		      s->area());
	s->~Shape();
	return out;
}
