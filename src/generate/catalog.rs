//! The cloud the generator simulates: its flavors and its images, with the
//! values the real templates carry (a public cloud of 2014: Standard and
//! Performance flavors, base images with the `org.openstack__1__*` metadata,
//! a managed snapshot, and an imported image that lacks most of it).

/// A nova flavor (instance type).
#[derive(Debug)]
pub struct Flavor {
    /// `instance_type_id`: the database id the usage checks compare.
    pub id: u32,
    pub name: &'static str,
    /// `instance_flavor_id`: the public flavor id.
    pub flavorid: &'static str,
    pub memory_mb: u32,
    pub vcpus: u32,
    pub root_gb: u32,
    pub ephemeral_gb: u32,
    pub swap: u32,
    pub rxtx_factor: &'static str,
    /// How often tenants pick it.
    pub weight: u32,
}

impl Flavor {
    pub fn disk_gb(&self) -> u32 {
        self.root_gb + self.ephemeral_gb
    }
}

pub static FLAVORS: [Flavor; 12] = [
    Flavor {
        id: 2,
        name: "512MB Standard Instance",
        flavorid: "2",
        memory_mb: 512,
        vcpus: 1,
        root_gb: 20,
        ephemeral_gb: 0,
        swap: 512,
        rxtx_factor: "80.0",
        weight: 30,
    },
    Flavor {
        id: 3,
        name: "1GB Standard Instance",
        flavorid: "3",
        memory_mb: 1024,
        vcpus: 1,
        root_gb: 40,
        ephemeral_gb: 0,
        swap: 1024,
        rxtx_factor: "120.0",
        weight: 15,
    },
    Flavor {
        id: 4,
        name: "2GB Standard Instance",
        flavorid: "4",
        memory_mb: 2048,
        vcpus: 2,
        root_gb: 80,
        ephemeral_gb: 0,
        swap: 2048,
        rxtx_factor: "240.0",
        weight: 8,
    },
    Flavor {
        id: 5,
        name: "4GB Standard Instance",
        flavorid: "5",
        memory_mb: 4096,
        vcpus: 2,
        root_gb: 160,
        ephemeral_gb: 0,
        swap: 2048,
        rxtx_factor: "400.0",
        weight: 6,
    },
    Flavor {
        id: 6,
        name: "8GB Standard Instance",
        flavorid: "6",
        memory_mb: 8192,
        vcpus: 4,
        root_gb: 320,
        ephemeral_gb: 0,
        swap: 2048,
        rxtx_factor: "600.0",
        weight: 5,
    },
    Flavor {
        id: 7,
        name: "15GB Standard Instance",
        flavorid: "7",
        memory_mb: 15360,
        vcpus: 6,
        root_gb: 620,
        ephemeral_gb: 0,
        swap: 2048,
        rxtx_factor: "800.0",
        weight: 5,
    },
    Flavor {
        id: 8,
        name: "30GB Standard Instance",
        flavorid: "8",
        memory_mb: 30720,
        vcpus: 8,
        root_gb: 1200,
        ephemeral_gb: 0,
        swap: 2048,
        rxtx_factor: "1200.0",
        weight: 2,
    },
    Flavor {
        id: 9,
        name: "1 GB Performance",
        flavorid: "performance1-1",
        memory_mb: 1024,
        vcpus: 1,
        root_gb: 20,
        ephemeral_gb: 0,
        swap: 0,
        rxtx_factor: "200.0",
        weight: 6,
    },
    Flavor {
        id: 10,
        name: "2 GB Performance",
        flavorid: "performance1-2",
        memory_mb: 2048,
        vcpus: 2,
        root_gb: 40,
        ephemeral_gb: 20,
        swap: 0,
        rxtx_factor: "400.0",
        weight: 6,
    },
    Flavor {
        id: 11,
        name: "4 GB Performance",
        flavorid: "performance1-4",
        memory_mb: 4096,
        vcpus: 4,
        root_gb: 40,
        ephemeral_gb: 40,
        swap: 0,
        rxtx_factor: "800.0",
        weight: 10,
    },
    Flavor {
        id: 12,
        name: "8 GB Performance",
        flavorid: "performance1-8",
        memory_mb: 8192,
        vcpus: 8,
        root_gb: 40,
        ephemeral_gb: 80,
        swap: 0,
        rxtx_factor: "1600.0",
        weight: 5,
    },
    Flavor {
        id: 15,
        name: "60 GB Performance",
        flavorid: "performance2-60",
        memory_mb: 61440,
        vcpus: 16,
        root_gb: 40,
        ephemeral_gb: 600,
        swap: 0,
        rxtx_factor: "5000.0",
        weight: 2,
    },
];

/// A glance image and the metadata nova copies into every notification's `image_meta`.
#[derive(Debug)]
pub struct Image {
    pub name: &'static str,
    /// `org.openstack__1__architecture`, `…os_version`, `…os_distro`: the
    /// `os_*` traits. `None` means the key is absent from `image_meta`.
    pub architecture: Option<&'static str>,
    pub os_version: Option<&'static str>,
    pub os_distro: Option<&'static str>,
    /// The plain `os_distro` property some images also carry.
    pub plain_distro: Option<&'static str>,
    pub os_type: &'static str,
    pub image_type: &'static str,
    pub min_disk: u32,
    pub min_ram: u32,
    pub auto_disk_config: &'static str,
    pub weight: u32,
}

pub static IMAGES: [Image; 11] = [
    Image {
        name: "CentOS 6.4",
        architecture: Some("x64"),
        os_version: Some("6.4"),
        os_distro: Some("org.centos"),
        plain_distro: Some("centos"),
        os_type: "linux",
        image_type: "base",
        min_disk: 20,
        min_ram: 512,
        auto_disk_config: "True",
        weight: 20,
    },
    Image {
        name: "CentOS 5.10",
        architecture: Some("x64"),
        os_version: Some("5.10"),
        os_distro: Some("org.centos"),
        plain_distro: Some("centos"),
        os_type: "linux",
        image_type: "base",
        min_disk: 40,
        min_ram: 512,
        auto_disk_config: "True",
        weight: 8,
    },
    Image {
        name: "Ubuntu 12.04 LTS (Precise Pangolin)",
        architecture: Some("x64"),
        os_version: Some("12.04"),
        os_distro: Some("com.ubuntu"),
        plain_distro: Some("ubuntu"),
        os_type: "linux",
        image_type: "base",
        min_disk: 20,
        min_ram: 512,
        auto_disk_config: "True",
        weight: 20,
    },
    Image {
        name: "Ubuntu 14.04 LTS (Trusty Tahr)",
        architecture: Some("x64"),
        os_version: Some("14.04"),
        os_distro: Some("com.ubuntu"),
        plain_distro: Some("ubuntu"),
        os_type: "linux",
        image_type: "base",
        min_disk: 20,
        min_ram: 512,
        auto_disk_config: "True",
        weight: 16,
    },
    Image {
        name: "Debian 7 (Wheezy)",
        architecture: Some("x64"),
        os_version: Some("7"),
        os_distro: Some("org.debian"),
        plain_distro: Some("debian"),
        os_type: "linux",
        image_type: "base",
        min_disk: 20,
        min_ram: 512,
        auto_disk_config: "True",
        weight: 8,
    },
    Image {
        name: "Fedora 20 (Heisenbug)",
        architecture: Some("x64"),
        os_version: Some("20"),
        os_distro: Some("org.fedoraproject"),
        plain_distro: Some("fedora"),
        os_type: "linux",
        image_type: "base",
        min_disk: 20,
        min_ram: 512,
        auto_disk_config: "True",
        weight: 4,
    },
    Image {
        name: "Red Hat Enterprise Linux 6.5",
        architecture: Some("x64"),
        os_version: Some("6.5"),
        os_distro: Some("com.redhat"),
        plain_distro: Some("rhel"),
        os_type: "linux",
        image_type: "base",
        min_disk: 20,
        min_ram: 512,
        auto_disk_config: "True",
        weight: 5,
    },
    Image {
        name: "Windows Server 2008 R2 SP1",
        architecture: Some("x64"),
        os_version: Some("2008.2"),
        os_distro: Some("com.microsoft.server"),
        plain_distro: None,
        os_type: "windows",
        image_type: "base",
        min_disk: 40,
        min_ram: 1024,
        auto_disk_config: "False",
        weight: 6,
    },
    Image {
        name: "Windows Server 2012",
        architecture: Some("x64"),
        os_version: Some("2012.0"),
        os_distro: Some("com.microsoft.server"),
        plain_distro: None,
        os_type: "windows",
        image_type: "base",
        min_disk: 40,
        min_ram: 1024,
        auto_disk_config: "False",
        weight: 4,
    },
    Image {
        name: "CentOS 5 Managed snapshot",
        architecture: Some("x64"),
        os_version: Some("5 Managed"),
        os_distro: Some("org.centos"),
        plain_distro: None,
        os_type: "linux",
        image_type: "snapshot",
        min_disk: 40,
        min_ram: 256,
        auto_disk_config: "True",
        weight: 5,
    },
    // Imported by a tenant: no os_version / os_distro, so both sides of every
    // comparison lack them (docs/checks.md#usage-checks: absent from both → next field).
    Image {
        name: "imported-appliance.vhd",
        architecture: Some("x64"),
        os_version: None,
        os_distro: None,
        plain_distro: None,
        os_type: "linux",
        image_type: "snapshot",
        min_disk: 20,
        min_ram: 512,
        auto_disk_config: "True",
        weight: 4,
    },
];

/// Pick an index from a table by weight, with `r` uniform in `0..total weight`.
pub fn by_weight(weights: impl Iterator<Item = u32> + Clone, r: u64) -> usize {
    let mut r = r;
    let mut last = 0;
    for (i, w) in weights.enumerate() {
        if r < w as u64 {
            return i;
        }
        r -= w as u64;
        last = i;
    }
    last
}

pub fn flavor_weights() -> impl Iterator<Item = u32> + Clone {
    FLAVORS.iter().map(|f| f.weight)
}

pub fn image_weights() -> impl Iterator<Item = u32> + Clone {
    IMAGES.iter().map(|i| i.weight)
}

pub fn total(weights: impl Iterator<Item = u32>) -> u64 {
    weights.map(u64::from).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flavor_ids_are_unique() {
        let mut ids: Vec<u32> = FLAVORS.iter().map(|f| f.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), FLAVORS.len());
    }

    #[test]
    fn weighted_pick_covers_the_table() {
        let t = total(flavor_weights());
        assert_eq!(by_weight(flavor_weights(), 0), 0);
        assert_eq!(by_weight(flavor_weights(), t - 1), FLAVORS.len() - 1);
        assert_eq!(by_weight(flavor_weights(), 30), 1);
    }
}
