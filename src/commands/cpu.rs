//! What the CPU offers that veribatch's hashing and curve code use: printed by `info`
//! and recorded in benchmark reports.

/// The x86-64 features blst, hashtree and sha2 pick up at run time, as detected here.
pub fn cpu_features() -> Vec<&'static str> {
    #[cfg(target_arch = "x86_64")]
    {
        let mut found = Vec::new();
        macro_rules! check {
            ($($f:tt),*) => {$(
                if std::arch::is_x86_feature_detected!($f) {
                    found.push($f);
                }
            )*};
        }
        check!("sha", "avx2", "avx512f", "adx", "bmi2");
        found
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        vec!["(feature detection is implemented for x86-64 only)"]
    }
}
