"""Package discovery for the design card's layout (see pyproject.toml).

The top-level folders core/, storage/, gui/ and assets/ become the subpackages of the
implicit namespace ``clirlens``; their own subpackages are found here so nothing has to be
listed by hand.
"""

from setuptools import find_packages, setup

LAYERS = {
    "core": "clirlens.core",
    "storage": "clirlens.storage",
    "gui": "clirlens.gui",
    "assets": "clirlens.assets",
}

packages, package_dir = [], {}
for folder, name in LAYERS.items():
    packages.append(name)
    package_dir[name] = folder
    for sub in find_packages(where=folder):
        packages.append(f"{name}.{sub}")

setup(packages=packages, package_dir=package_dir)
