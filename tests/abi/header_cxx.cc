// header_cxx.cc - <gatehouse/plugin.h> must compile on its own as C++ with
// -pedantic, so plugins can be written in C++ (Makefile.am sets the flags).
#include <gatehouse/plugin.h>
#include <cstdio>

static gh_result deliver(const void *, void *, gh_call *, const gh_param *, gh_out *)
{
    return GH_OK;
}

static const gh_notify_ops ops = { sizeof(gh_notify_ops), deliver };
// an ops table from a plugin built before `deliver` existed
static const gh_notify_ops old_ops = { (uint32_t)offsetof(gh_notify_ops, deliver), deliver };

int main()
{
    gh_plugin p = {};
    p.size = sizeof p;
    p.abi_major = GH_ABI_MAJOR;
    p.kind = GH_KIND_NOTIFY;
    p.ops = &ops;
    bool ok = p.abi_major == 1 && GH_OPS_HAS(gh_notify_ops, &ops, deliver) &&
              !GH_OPS_HAS(gh_notify_ops, &old_ops, deliver);
    std::printf("%s: C++ header check\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
