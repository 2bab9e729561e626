"""Build of hepgen's optional C kernels; all other metadata is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "hepgen._kernels",
            ["src/hepgen/_kernels.c"],
            # no errno or FP traps to keep, so that the loops vectorise; no -ffast-math (NaN
            # must stay NaN)
            extra_compile_args=["-O3", "-fno-math-errno", "-fno-trapping-math"],
            # without a C compiler hepgen still installs and runs its torch code instead
            optional=True,
        )
    ]
)
