export * from "./clouds";
export * from "./config";
export * from "./identity";
export * from "./entraApplication";
export * from "./linuxWebApp";
export * from "./secretlessWebApp";
